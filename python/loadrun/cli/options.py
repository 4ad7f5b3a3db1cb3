"""The options object every option group writes into, and the run reads."""
from dataclasses import asdict, dataclass


@dataclass
class Options:
    model: str = ""
    iters: int = 10
    warmup: int = 1
    input: str = ""
    model_info: bool = False
    verbose: bool = False
    json_path: str = ""

    def as_dict(self):
        """The options for the --json report (the model is reported apart)."""
        d = asdict(self)
        d.pop("model")
        return d
