"""Importing an Open-LLM-VTuber setup: `kagura config import-olv PATH`.

A user of that project keeps their folder as it is: the import reads its `conf.yaml`,
`characters/`, `model_dict.json` and folders, and writes a Kagura config (plus one character
preset per character file) that uses the models, backgrounds, avatars and built frontend
where they are. Every part that Kagura cannot carry over as it was gets a line saying what
Kagura uses instead and what to do.
"""

from .importer import ImportPlan, plan_import, write_import
from .layout import OlvImportError
from .report import Line

__all__ = ["ImportPlan", "Line", "OlvImportError", "plan_import", "write_import"]
