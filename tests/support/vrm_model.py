"""A small valid VRM 1.0 model, written at test time: no VRM model on npm comes with a licence
that lets Kagura ship or download it, and a made one has exactly the parts a test checks.

The model is a flat, unlit, front-facing figure (legs, body, arms, head, hair, eyes, mouth)
in one mesh, colored by vertex colors, standing about 1.8 m tall and facing +Z (VRM 1.0).
Its humanoid has every bone VRM 1.0 requires; its morph targets are bound to the emotion
presets (happy, angry, sad, relaxed, surprised), the vowels aa, ih and oh, and blink, and
each moves the eyes or the mouth visibly. The meta carries a licence (VRM Public License
1.0, free for anyone), as a real model's does.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np

GLB_MAGIC = 0x46546C67  # "glTF"
CHUNK_JSON = 0x4E4F534A
CHUNK_BIN = 0x004E4942
FLOAT, UNSIGNED_SHORT = 5126, 5123
ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963

# name → (parent, translation relative to the parent); world Y: hips 0.9 … head 1.5.
BONES: dict[str, tuple[str | None, tuple[float, float, float]]] = {
    "hips": (None, (0, 0.9, 0)),
    "spine": ("hips", (0, 0.15, 0)),
    "chest": ("spine", (0, 0.2, 0)),
    "neck": ("chest", (0, 0.18, 0)),
    "head": ("neck", (0, 0.07, 0)),
    "leftUpperArm": ("chest", (0.2, 0.13, 0)),
    "leftLowerArm": ("leftUpperArm", (0.28, 0, 0)),
    "leftHand": ("leftLowerArm", (0.25, 0, 0)),
    "rightUpperArm": ("chest", (-0.2, 0.13, 0)),
    "rightLowerArm": ("rightUpperArm", (-0.28, 0, 0)),
    "rightHand": ("rightLowerArm", (-0.25, 0, 0)),
    "leftUpperLeg": ("hips", (0.1, -0.05, 0)),
    "leftLowerLeg": ("leftUpperLeg", (0, -0.4, 0)),
    "leftFoot": ("leftLowerLeg", (0, -0.4, 0)),
    "rightUpperLeg": ("hips", (-0.1, -0.05, 0)),
    "rightLowerLeg": ("rightUpperLeg", (0, -0.4, 0)),
    "rightFoot": ("rightLowerLeg", (0, -0.4, 0)),
}

SKIN, HAIR, CLOTH, LEGS = (1.0, 0.8, 0.65), (0.35, 0.2, 0.12), (0.9, 0.3, 0.5), (0.15, 0.2, 0.5)
DARK, RED = (0.05, 0.05, 0.1), (0.7, 0.05, 0.1)
FRONT = 0.01  # eyes and mouth sit this far in front of the face

# name → (x0, y0, x1, y1, z, color): rectangles facing +Z; the figure's left is +X.
PARTS: dict[str, tuple[float, float, float, float, float, tuple[float, float, float]]] = {
    "left_leg": (0.03, 0.0, 0.16, 0.85, 0, LEGS),
    "right_leg": (-0.16, 0.0, -0.03, 0.85, 0, LEGS),
    "body": (-0.2, 0.85, 0.2, 1.43, 0, CLOTH),
    "left_arm": (0.2, 0.9, 0.27, 1.4, 0, CLOTH),
    "right_arm": (-0.27, 0.9, -0.2, 1.4, 0, CLOTH),
    "head": (-0.15, 1.43, 0.15, 1.75, 0, SKIN),
    "hair": (-0.17, 1.7, 0.17, 1.8, FRONT / 2, HAIR),
    "left_eye": (0.04, 1.6, 0.09, 1.66, FRONT, DARK),
    "right_eye": (-0.09, 1.6, -0.04, 1.66, FRONT, DARK),
    "mouth": (-0.04, 1.5, 0.04, 1.52, FRONT, RED),
}
# A rectangle's corners, in vertex order: bottom-left, bottom-right, top-right, top-left.
BL, BR, TR, TL = range(4)

EYES = ("left_eye", "right_eye")
Move = tuple[str, int, float, float]  # (part, corner, dx, dy)


def _eyes(corners: tuple[int, ...], dy: float) -> list[Move]:
    return [(eye, corner, 0, dy) for eye in EYES for corner in corners]


# Each expression's morph. Inner eye corners are those nearer x = 0.
MORPHS: dict[str, list[Move]] = {
    "happy": [*_eyes((BL, BR), 0.03), ("mouth", BL, -0.015, 0), ("mouth", BR, 0.015, 0)],
    "angry": [("left_eye", TL, 0, -0.03), ("right_eye", TR, 0, -0.03)],
    "sad": [("left_eye", TR, 0, -0.03), ("right_eye", TL, 0, -0.03)],
    "relaxed": _eyes((TL, TR), -0.03),
    "surprised": [*_eyes((TL, TR), 0.02), ("mouth", BL, 0, -0.03), ("mouth", BR, 0, -0.03)],
    "aa": [("mouth", BL, 0, -0.06), ("mouth", BR, 0, -0.06)],
    "ih": [("mouth", c, dx, 0) for c, dx in ((BL, -0.02), (TL, -0.02), (BR, 0.02), (TR, 0.02))],
    "oh": [("mouth", BL, 0.015, -0.03), ("mouth", BR, -0.015, -0.03)],
    "blink": _eyes((TL, TR), -0.06),
}

META = {
    "name": "Kagura test figure",
    "version": "1",
    "authors": ["Kagura tests"],
    "licenseUrl": "https://vrm.dev/licenses/1.0/",
    "avatarPermission": "everyone",
    "allowExcessivelyViolentUsage": False,
    "allowExcessivelySexualUsage": False,
    "commercialUsage": "corporation",
    "allowPoliticalOrReligiousUsage": False,
    "allowAntisocialOrHateUsage": False,
    "creditNotation": "unnecessary",
    "allowRedistribution": True,
    "modification": "allowModificationRedistribution",
}


class _Buffer:
    """The binary chunk, with its buffer views and accessors."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.views: list[dict[str, Any]] = []
        self.accessors: list[dict[str, Any]] = []

    def add(self, array: np.ndarray, kind: str, target: int, bounds: bool = False) -> int:
        """Append `array` (float32 vectors or uint16 scalars); the new accessor's index."""
        while len(self.data) % 4:
            self.data.append(0)
        raw = array.tobytes()
        self.views.append(
            {"buffer": 0, "byteOffset": len(self.data), "byteLength": len(raw), "target": target}
        )
        self.data += raw
        accessor: dict[str, Any] = {
            "bufferView": len(self.views) - 1,
            "componentType": UNSIGNED_SHORT if array.dtype == np.uint16 else FLOAT,
            "count": len(array),
            "type": kind,
        }
        if bounds:  # glTF requires them for positions, morph targets' too
            accessor["min"] = array.min(axis=0).tolist()
            accessor["max"] = array.max(axis=0).tolist()
        self.accessors.append(accessor)
        return len(self.accessors) - 1


def _geometry() -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, int]]:
    """Positions, colors, triangle indices, and each part's first vertex."""
    positions: list[tuple[float, float, float]] = []
    colors: list[tuple[float, float, float]] = []
    indices: list[int] = []
    first: dict[str, int] = {}
    for name, (x0, y0, x1, y1, z, color) in PARTS.items():
        base = len(positions)
        first[name] = base
        positions += [(x0, y0, z), (x1, y0, z), (x1, y1, z), (x0, y1, z)]
        colors += [color] * 4
        indices += [base, base + 1, base + 2, base, base + 2, base + 3]
    return (
        np.array(positions, np.float32),
        np.array(colors, np.float32),
        np.array(indices, np.uint16),
        first,
    )


def vrm_bytes() -> bytes:
    """The model as a GLB file (what a `.vrm` file is)."""
    positions, colors, indices, first = _geometry()
    buffer = _Buffer()
    attributes = {
        "POSITION": buffer.add(positions, "VEC3", ARRAY_BUFFER, bounds=True),
        "COLOR_0": buffer.add(colors, "VEC3", ARRAY_BUFFER),
    }
    index_accessor = buffer.add(indices, "SCALAR", ELEMENT_ARRAY_BUFFER)
    targets = []
    for moves in MORPHS.values():
        delta = np.zeros_like(positions)
        for part, corner, dx, dy in moves:
            delta[first[part] + corner] += (dx, dy, 0)
        targets.append({"POSITION": buffer.add(delta, "VEC3", ARRAY_BUFFER, bounds=True)})

    names = list(BONES)
    nodes: list[dict[str, Any]] = [{"name": n, "translation": list(BONES[n][1])} for n in names]
    for name, (parent, _) in BONES.items():
        if parent is not None:
            nodes[names.index(parent)].setdefault("children", []).append(names.index(name))
    mesh_node = len(nodes)
    nodes.append({"name": "figure", "mesh": 0})

    def bind(index: int) -> dict[str, Any]:
        return {
            "morphTargetBinds": [{"node": mesh_node, "index": index, "weight": 1.0}],
            "isBinary": False,
            "overrideBlink": "none",
            "overrideLookAt": "none",
            "overrideMouth": "none",
        }

    gltf = {
        "asset": {"version": "2.0", "generator": "Kagura tests (tests/support/vrm_model.py)"},
        "extensionsUsed": ["VRMC_vrm", "KHR_materials_unlit"],
        "scene": 0,
        "scenes": [{"nodes": [names.index("hips"), mesh_node]}],
        "nodes": nodes,
        "meshes": [
            {
                "name": "figure",
                "primitives": [
                    {
                        "attributes": attributes,
                        "indices": index_accessor,
                        "material": 0,
                        "targets": targets,
                    }
                ],
                "weights": [0.0] * len(targets),
                "extras": {"targetNames": list(MORPHS)},
            }
        ],
        "materials": [
            {
                "name": "flat",
                "pbrMetallicRoughness": {
                    "baseColorFactor": [1, 1, 1, 1],
                    "metallicFactor": 0,
                    "roughnessFactor": 1,
                },
                "doubleSided": True,
                "extensions": {"KHR_materials_unlit": {}},
            }
        ],
        "accessors": buffer.accessors,
        "bufferViews": buffer.views,
        "buffers": [{"byteLength": len(buffer.data)}],
        "extensions": {
            "VRMC_vrm": {
                "specVersion": "1.0",
                "meta": META,
                "humanoid": {"humanBones": {n: {"node": names.index(n)} for n in names}},
                "expressions": {"preset": {n: bind(i) for i, n in enumerate(MORPHS)}},
            }
        },
    }
    return _glb(json.dumps(gltf).encode("utf-8"), bytes(buffer.data))


def _glb(document: bytes, binary: bytes) -> bytes:
    document += b" " * (-len(document) % 4)  # chunks are 4-byte aligned: JSON with spaces
    binary += b"\0" * (-len(binary) % 4)
    chunks = struct.pack("<II", len(document), CHUNK_JSON) + document
    chunks += struct.pack("<II", len(binary), CHUNK_BIN) + binary
    return struct.pack("<III", GLB_MAGIC, 2, 12 + len(chunks)) + chunks


def write_vrm_model(models_dir: Path, name: str, **entry: Any) -> dict[str, Any]:
    """Write `<name>.vrm` into `models_dir` and register it in its `model_dict.json` (with
    `entry`'s fields over the defaults); the entry written."""
    models_dir.mkdir(parents=True, exist_ok=True)
    (models_dir / f"{name}.vrm").write_bytes(vrm_bytes())
    record = {"name": name, "url": f"/live2d-models/{name}.vrm", **entry}
    (models_dir / "model_dict.json").write_text(json.dumps([record]), "utf-8")
    return record
