"""`.npy` payloads, read by NumPy (no pickles). Any dtype and memory order
NumPy reads is accepted; the array is converted to the model input's dtype
later, if that loses nothing."""
import numpy as np

from loadrun.errors import InputError


def load(name, path):
    try:
        with open(path, "rb") as f:
            arr = np.load(f, allow_pickle=False)
    except FileNotFoundError:
        raise InputError(f"input '{name}': file not found: {path}") from None
    except OSError as e:
        raise InputError(f"input '{name}': cannot read {path}: {e.strerror or e}") from None
    except (ValueError, EOFError) as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise InputError(f"input '{name}': {path} is not a valid .npy file ({msg})") from None
    if not isinstance(arr, np.ndarray):
        arr.close()
        raise InputError(f"input '{name}': {path} is an .npz archive, not a single .npy array")
    return np.asarray(arr, order="C")
