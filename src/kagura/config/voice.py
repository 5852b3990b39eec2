"""Voice input settings: when a spoken turn ends, and when speech interrupts the character.

The `vad` section says what counts as speech and as a pause; this one says what happens
then: the end-of-turn model decides whether a pause ends the turn, and barge-in decides
whether speech over the character's reply is the streamer (interrupt) or the character's
own voice coming back through the microphone (ignore).
"""

from __future__ import annotations

from typing import Literal

from .fields import F, Section


class SmartTurnConfig(Section):
    model_path: str = F(
        "",
        en="Smart Turn ONNX model. Empty means smart-turn-v3.2-cpu.onnx from the pipecat-ai "
        "package (only the model file is used).",
        zh="Smart Turn ONNX 模型。留空表示使用 pipecat-ai 包自带的 smart-turn-v3.2-cpu.onnx"
        "（只用其中的模型文件）。",
    )
    threads: int = F(1, en="CPU threads per call.", zh="每次推理使用的 CPU 线程数。", ge=1, le=16)


class EndOfTurnConfig(Section):
    provider: Literal["smart_turn", "silence"] = F(
        "smart_turn",
        en="What decides that a pause ends the turn: the Smart Turn model (it hears whether "
        "the sentence sounds finished, in 23 languages), or silence alone "
        "(silence_timeout_ms).",
        zh="由什么判断一次停顿是否结束本轮发言：Smart Turn 模型（听句子是否说完，支持 23 种语言），"
        "或只看静音时长（silence_timeout_ms）。",
    )
    threshold: float = F(
        0.5,
        en="Smart Turn probability above which a pause ends the turn; higher waits longer "
        "for speakers who pause mid-sentence.",
        zh="Smart Turn 概率高于此值时停顿即结束本轮；调高则对句中停顿的人等待更久。",
        gt=0,
        lt=1,
    )
    silence_timeout_ms: int = F(
        1000,
        en="Silence that ends the turn whatever the model says (and the only rule with "
        "provider silence), in milliseconds.",
        zh="无论模型如何判断，静音达到此时长即结束本轮"
        "（provider 为 silence 时这是唯一规则），毫秒。",
        ge=100,
        le=10_000,
    )
    min_pause_ms: int = F(
        400,
        en="The shortest pause the model may end a turn on, in milliseconds. The model is "
        "asked sooner (at vad.min_silence_ms) and its verdict waits until the pause is this "
        'long: after a clause that is a whole sentence ("I just beat the boss, that was so '
        "hard!\") the comma's pause sounds finished, and people pause 200-400 ms there.",
        zh="模型可以结束本轮的最短停顿，毫秒。模型更早被询问（在 vad.min_silence_ms 时），"
        "但它的判断要等停顿达到此时长才生效：逗号前若已是完整的一句"
        "（“我刚打过了 boss，太难了！”），逗号处的停顿听起来像说完了，"
        "而人们在这里会停 200–400 毫秒。",
        ge=0,
        le=5000,
    )
    recheck_ms: int = F(
        200,
        en="While a pause goes on, ask the model again this often, in milliseconds (a "
        "finished sentence sounds more finished with more silence after it); 0 asks once.",
        zh="停顿持续期间每隔此时长（毫秒）再问一次模型"
        "（说完的句子后面静音越长越像说完了）；0 表示只问一次。",
        ge=0,
        le=5000,
    )
    smart_turn: SmartTurnConfig = F(
        default_factory=SmartTurnConfig,
        en="Settings of the Smart Turn model.",
        zh="Smart Turn 模型的设置。",
    )


class BargeInConfig(Section):
    enabled: bool = F(
        True,
        en="Speech over the character's reply interrupts it (on /client-ws: the page is told "
        "to stop, as the Open-LLM-VTuber frontend expects).",
        zh="在角色回答时说话会打断它（在 /client-ws 上：通知页面停止播放，与 Open-LLM-VTuber "
        "前端的行为一致）。",
    )
    stage: bool = F(
        True,
        en="The streamer's (admin's) voice on the stage interrupts the reply being spoken to "
        "every page.",
        zh="主播（管理员）在舞台上说话会打断正在向所有页面播放的回答。",
    )
    threshold: float = F(
        0.7,
        en="Speech probability needed to interrupt while the character speaks (stricter "
        "than vad.threshold: what leaks from the speakers is quieter and less clear).",
        zh="角色说话期间打断所需的语音概率"
        "（比 vad.threshold 更严：扬声器漏进麦克风的声音更小、更模糊）。",
        gt=0,
        lt=1,
    )
    min_speech_ms: int = F(
        300,
        en="Speech needed to interrupt while the character speaks, in milliseconds (a cough "
        "or a short laugh does not).",
        zh="角色说话期间打断所需的语音时长（毫秒）；咳嗽或短促的笑声不会打断。",
        ge=0,
        le=5000,
    )
    echo_similarity: float = F(
        0.6,
        en="Speech that matches the character's own reply this closely (correlation, 0..1) "
        "is its voice coming back through the microphone: it neither interrupts nor starts "
        "a turn. 1 turns the check off.",
        zh="与角色自己的回答相似到此程度（相关系数，0..1）的语音是角色的声音经麦克风传回："
        "既不打断也不开启新一轮。设为 1 关闭此检查。",
        gt=0,
        le=1,
    )


class VoiceConfig(Section):
    pre_roll_ms: int = F(
        400,
        en="Audio kept from before speech was detected, in milliseconds: the detector needs "
        "a moment to be sure, and the first word's onset must not be cut.",
        zh="保留检测到语音之前的音频（毫秒）：检测器需要一点时间确认，第一个词的开头不能被截掉。",
        ge=0,
        le=2000,
    )
    early_transcription: bool = F(
        True,
        en="Start transcribing at each pause, while the end of the turn is being decided, "
        "so the transcript is ready sooner (it is redone if the speaker goes on).",
        zh="在每次停顿时就开始识别，与判断是否结束本轮同时进行，让识别结果更早就绪"
        "（若说话人继续说，则重新识别）。",
    )
    turn: EndOfTurnConfig = F(
        default_factory=EndOfTurnConfig,
        en="End of turn: when a pause means the speaker has finished.",
        zh="本轮结束判断：何时的停顿表示说话人已说完。",
    )
    barge_in: BargeInConfig = F(
        default_factory=BargeInConfig,
        en="Interrupting the character by speaking, without it interrupting itself.",
        zh="通过说话打断角色，同时避免角色被自己的声音打断。",
    )
