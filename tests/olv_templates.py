"""The two `conf.yaml` templates of Open-LLM-VTuber (v1.2) as its users have them: the English
`conf.default.yaml` and the Chinese `conf.ZH.default.yaml` (same keys, another order, other
comments and Chinese defaults), with `$placeholders` for what the tests vary."""

from __future__ import annotations

from string import Template

ENGLISH = Template("""\
# System Settings: Setting related to the initialization of the server
system_config:
  conf_version: 'v1.2.1'
  host: 'localhost' # use 0.0.0.0 if you want other devices to access this page
  port: 12393
  # New setting for alternative configurations
  config_alts_dir: 'characters'
  # Tool prompts that will be appended to the persona prompt
  tool_prompts:
    live2d_expression_prompt: 'live2d_expression_prompt'
    group_conversation_prompt: 'group_conversation_prompt'
    mcp_prompt: 'mcp_prompt'
    proactive_speak_prompt: 'proactive_speak_prompt'

# configuration for the default character
character_config:
  conf_name: '$conf_name' # The name of character configuration file.
  conf_uid: '$conf_uid' # The unique identifier of character configuration.
  # The name of Live2D model. Must be the same as the corresponding name in model_dict.json
  live2d_model_name: '$model'
  character_name: '$name' # Will be used in the group conversation and the display name of the AI.
  avatar: '$avatar' # Suggest using a square image for the avatar. Save it in the avatars folder.
  human_name: '$human' # Will be used in the group conversation and the display name of the human.

  # ============== Prompts ==============

  # Enter the persona prompt you want to use below.
  persona_prompt: |
$persona

  #  =================== LLM Backend Settings ===================

  agent_config:
    conversation_agent_choice: 'basic_memory_agent'

    agent_settings:
      basic_memory_agent:
        # choose one of the llm provider from the llm_config
        llm_provider: '$llm_provider'
        faster_first_response: True
        segment_method: 'pysbd'
        use_mcpp: True
        mcp_enabled_servers: ["time", "ddg-search"] # Enabled MCP servers

      letta_agent:
        host: 'localhost' # Host address
        port: 8283 # Port number
        id: xxx # ID number of the Agent running on the Letta server
        faster_first_response: True
        segment_method: 'pysbd'

      hume_ai_agent:
        api_key: ''
        host: 'api.hume.ai' # Do not change this in most cases
        config_id: '' # Optional
        idle_timeout: 15 # How many seconds to wait before disconnecting

    llm_configs:
      # OpenAI Compatible inference backend
      openai_compatible_llm:
        base_url: '$llm_base_url'
        llm_api_key: '$llm_api_key'
        organization_id: null
        project_id: null
        model: '$llm_model'
        temperature: 0.6 # value between 0 to 2
        interrupt_method: 'user'

      # Claude API Configuration
      claude_llm:
        base_url: 'https://api.anthropic.com'
        llm_api_key: 'YOUR API KEY HERE'
        model: 'claude-3-haiku-20240307'

      llama_cpp_llm:
        model_path: '<path-to-gguf-model-file>'
        verbose: False

      ollama_llm:
        base_url: 'http://localhost:11434/v1'
        model: 'qwen2.5:latest'
        temperature: 1.0 # value between 0 to 2
        keep_alive: -1
        unload_at_exit: True # unload the model from memory at exit

      lmstudio_llm:
        base_url: 'http://localhost:1234/v1'
        model: 'qwen2.5:latest'
        temperature: 1.0 # value between 0 to 2

      openai_llm:
        llm_api_key: 'Your Open AI API key'
        model: 'gpt-4o'
        temperature: 1.0 # value between 0 to 2

      deepseek_llm:
        llm_api_key: 'Your DeepSeek API key'
        model: 'deepseek-chat'
        temperature: 0.7 # note that deepseek's temperature ranges from 0 to 1

      groq_llm:
        llm_api_key: 'your groq API key'
        model: 'llama-3.3-70b-versatile'
        temperature: 1.0 # value between 0 to 2
$extra_llm
  # === Automatic Speech Recognition ===
  asr_config:
    # speech to text model options: 'faster_whisper', 'whisper_cpp', 'whisper', 'azure_asr',
    #   'fun_asr', 'groq_whisper_asr', 'sherpa_onnx_asr'
    asr_model: '$asr_model'

    # Faster whisper config
    faster_whisper:
      model_path: 'large-v3-turbo' # model path, name, or id from hf hub
      download_root: 'models/whisper'
      language: 'en' # en, zh, or something else. put nothing for auto-detect.
      device: 'auto' # cpu, cuda, or auto. faster-whisper doesn't support mps
      compute_type: 'int8'
      prompt: ''

    sherpa_onnx_asr:
      model_type: 'sense_voice'
      sense_voice: './models/sherpa-onnx-sense-voice-zh-en-ja-ko-yue-2024-07-17/model.int8.onnx'
      tokens: './models/sherpa-onnx-sense-voice-zh-en-ja-ko-yue-2024-07-17/tokens.txt'
      num_threads: 4 # Number of threads
      use_itn: True
      provider: 'cpu'

    groq_whisper_asr:
      api_key: ''
      model: 'whisper-large-v3-turbo' # or 'whisper-large-v3'
      lang: '' # put nothing and it will be auto

  # =================== Text to Speech ===================
  tts_config:
    tts_model: '$tts_model'
    # text to speech model options:
    #   'azure_tts', 'pyttsx3_tts', 'edge_tts', 'bark_tts', ...

    edge_tts:
      # Use `edge-tts --list-voices` to list all available voices
      voice: 'en-US-AvaMultilingualNeural' # 'en-US-AvaMultilingualNeural' #'zh-CN-XiaoxiaoNeural'

    piper_tts:
      model_path: 'models/piper/zh_CN-huayan-medium.onnx'  # Path to the model file (.onnx)
      speaker_id: 0             # Speaker ID (for multi-speaker models)
      length_scale: 1.0         # Speech speed control

    openai_tts: # Configuration for OpenAI-compatible TTS endpoints
      model: 'kokoro' # Model name expected by the server (e.g., 'tts-1', 'kokoro')
      voice: 'af_sky+af_bella' # Voice name(s) expected by the server
      api_key: 'not-needed' # API key if required by the server
      base_url: '$tts_base_url' # Base URL of the TTS server
      file_extension: 'mp3' # Audio file format ('mp3' or 'wav')

  # =================== Voice Activity Detection ===================
  vad_config:
    vad_model: $vad_model

    silero_vad:
      orig_sr: 16000 # Original Audio Sample Rate
      target_sr: 16000 # Target Audio Sample Rate
      prob_threshold: 0.4 # Probability Threshold for VAD
      db_threshold: 60 # Decibel Threshold for VAD
      required_hits: 3 # Number of consecutive hits required to consider speech
      required_misses: 24 # Number of consecutive misses required to consider silence
      smoothing_window: 5 # Smoothing window size for VAD

  tts_preprocessor_config:
    remove_special_char: True # remove special characters like emoji from audio generation
    ignore_brackets: True # ignore everything inside brackets
    ignore_parentheses: True # ignore everything inside parentheses
    ignore_asterisks: True # ignore everything wrapped inside asterisks
    ignore_angle_brackets: True # ignore everything wrapped inside <text>

# Live Streaming Integration
live_config:
  bilibili_live:
    # List of BiliBili live room IDs to monitor
    room_ids: [1991478060]
    sessdata: ""
""")

CHINESE = Template("""\
# ===========================
# 这是中文版本的配置文件。
# 一些配置项被调整成了适合中文用户的预设配置，方便无脑开玩。
# ===========================

# 系统设置：与服务器初始化相关的设置
system_config:
  conf_version: 'v1.2.1' # 配置文件版本
  host: 'localhost' # 服务器监听的地址
  port: 12393 # 服务器监听的端口
  config_alts_dir: 'characters' # 用于存放替代配置的目录
  tool_prompts: # 要插入到角色提示词中的工具提示词
    live2d_expression_prompt: 'live2d_expression_prompt'
    group_conversation_prompt: 'group_conversation_prompt'
    mcp_prompt: 'mcp_prompt'
    proactive_speak_prompt: 'proactive_speak_prompt'

# 默认角色的配置
character_config:
  conf_name: '$conf_name' # 角色配置文件的名称
  conf_uid: '$conf_uid' # 角色配置的唯一标识符
  live2d_model_name: '$model' # Live2D 模型名称
  character_name: '$name' # 将在群聊中使用，并显示为 AI 的名称。
  avatar: '$avatar' # 建议使用正方形图像作为头像。
  human_name: '$human' # 将在群聊中使用，并显示为人类的名称。

  # ============== 提示词 ==============

  # 只需在下面输入你想使用的人格提示。
  persona_prompt: |
$persona

  #  =================== LLM 后端设置 ===================

  agent_config:
    conversation_agent_choice: 'basic_memory_agent' # 对话代理选择

    agent_settings:
      basic_memory_agent:
        # 从 llm_config 中选择一个 llm 提供商
        llm_provider: '$llm_provider' # 使用的 LLM 提供商
        faster_first_response: True
        segment_method: 'pysbd'
        use_mcpp: False
        mcp_enabled_servers: ["time", "ddg-search"] # 启用的 MCP 服务器

      hume_ai_agent:
        api_key: ''
        host: 'api.hume.ai' # 一般无需更改
        config_id: '' # 可选
        idle_timeout: 15 # 空闲超时断开连接的秒数

      letta_agent:
        host: 'localhost' #主机地址
        port: 8283 # 端口号
        id: xxx #letta server运行的Agent的id编号
        faster_first_response: True
        segment_method: 'pysbd'

    llm_configs:
      openai_compatible_llm:
        base_url: '$llm_base_url' # 基础 URL
        llm_api_key: '$llm_api_key' # API 密钥
        organization_id: null # 组织 ID
        project_id: null # 项目 ID
        model: '$llm_model' # 使用的模型
        temperature: 1.0 # 温度，介于 0 到 2 之间
        interrupt_method: 'user'

      ollama_llm:
        base_url: 'http://localhost:11434/v1' # 基础 URL
        model: 'qwen2.5:latest' # 使用的模型
        temperature: 1.0 # 温度，介于 0 到 2 之间
        keep_alive: -1
        unload_at_exit: True # 退出时从内存中卸载模型

      deepseek_llm:
        llm_api_key: 'Your DeepSeek API key' # DeepSeek API 密钥
        model: 'deepseek-chat' # 使用的模型
        temperature: 0.7 # 注意，DeepSeek 的温度范围是 0 到 1
$extra_llm
  asr_config:
    asr_model: '$asr_model' # 使用的语音识别模型

    faster_whisper:
      model_path: 'large-v3-turbo' # 模型路径，模型名称，或 hf hub 的模型 id
      download_root: 'models/whisper' # 模型下载根目录
      language: 'zh' # 语言，en、zh 或其他。留空表示自动检测。
      device: 'auto' # 设备，cpu、cuda 或 auto。
      compute_type: 'int8'
      prompt: '' # 提示词，用于辅助生成正确的文本

    sherpa_onnx_asr:
      model_type: 'sense_voice'
      sense_voice: './models/sherpa-onnx-sense-voice-zh-en-ja-ko-yue-2024-07-17/model.int8.onnx'
      tokens: './models/sherpa-onnx-sense-voice-zh-en-ja-ko-yue-2024-07-17/tokens.txt'
      num_threads: 4 # 线程数
      use_itn: True
      provider: 'cpu'

  # =================== 文本转语音 ===================
  tts_config:
    tts_model: '$tts_model' # 使用的文本转语音模型

    siliconflow_tts:
      api_url: "https://api.siliconflow.cn/v1/audio/speech"
      api_key: "your key"  # 用于身份验证的API密钥
      default_model: "FunAudioLLM/CosyVoice2-0.5B"  # 默认使用的文本转语音模型
      default_voice: "speech:Dreamflowers:5bdstvc39i:xkqldnpasqmoqbakubom your voice name"
      response_format: "mp3"  # 输出音频格式，支持mp3、opus、wav、pcm

    edge_tts:
      # 使用 `edge-tts --list-voices` 列出所有可用语音
      voice: zh-CN-XiaoxiaoNeural # 'en-US-AvaMultilingualNeural' #'zh-CN-XiaoxiaoNeural'

    openai_tts:
      model: 'kokoro'
      voice: 'zf_xiaobei'
      api_key: 'not-needed'
      base_url: '$tts_base_url'
      file_extension: 'mp3'

  # =================== Voice Activity Detection ===================
  vad_config:
    vad_model: $vad_model

    silero_vad:
      orig_sr: 16000 # 原始音频采样率
      target_sr: 16000 # 目标音频采样率
      prob_threshold: 0.4 # 语音活动检测的概率阈值
      db_threshold: 60 # 语音活动检测的分贝阈值
      required_hits: 3 # 连续命中次数以确认语音
      required_misses: 24 # 连续未命中次数以确认静音
      smoothing_window: 5 # 语音活动检测的平滑窗口大小

# 直播平台集成
live_config:
  bilibili_live:
    room_ids: [1991478060]
    sessdata: ""
""")
