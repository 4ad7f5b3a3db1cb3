"""Files loadrun writes for people and tools to read after a run.

- static_mem_info: `--get-static-mem-info DIR` (graph.json,
  StaticMemoryInfo.json, memory.svg).
"""
