"""The options object every option group writes into, and the run reads."""
from dataclasses import asdict, dataclass
from typing import Optional


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
    weight_preprocess: bool = False
    # memory (options_memory)
    disable_mem_opt: bool = False
    static_mem_info: str = ""
    max_plans: Optional[int] = None
    # executor switches (options_executor)
    record_comp_seq: int = 0
    fake_first: bool = False
    const_shape: bool = False
    sanity_check: bool = True

    def as_dict(self):
        """The options for the --json report (the model is reported apart)."""
        d = asdict(self)
        d.pop("model")
        return d
