"""The options object every option group writes into, and the run reads."""
from dataclasses import asdict, dataclass, field
from typing import List, Optional


@dataclass
class Options:
    model: str = ""
    iters: int = 10
    warmup: int = 1
    input: str = ""
    model_info: bool = False
    verbose: bool = False
    json_path: str = ""
    # fast run (options_fastrun)
    fast_run: bool = False
    full_run: bool = False
    fast_run_algo_policy: str = ""
    reproducible: bool = False
    binary_equal_between_batch: bool = False
    fast_run_shared_batch_size: int = 0
    workspace_limit: Optional[int] = None
    weight_preprocess: bool = True
    # memory (options_memory)
    disable_mem_opt: bool = False
    static_mem_info: str = ""
    max_plans: Optional[int] = None
    # layout (options_layout): "", "nchw44" or "nchw88"
    layout: str = ""
    # executor switches (options_executor)
    record_comp_seq: int = 0
    fake_first: bool = False
    const_shape: bool = False
    sanity_check: bool = True
    # device and threads (options_device)
    device: str = "default"  # the winning flag: cpu, cpu_default, multithread, multithread_default
    threads: int = 1
    core_ids: List[int] = field(default_factory=list)
    dispatch_thread: bool = False  # runs on a dispatch worker thread (--cpu, --multithread)
    copies: int = 1  # --thread
    check_dispatch: bool = False

    def as_dict(self):
        """The options for the --json report (the model is reported apart)."""
        d = asdict(self)
        d.pop("model")
        return d
