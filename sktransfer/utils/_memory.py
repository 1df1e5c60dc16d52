"""How much memory a computation may still take."""

import os

import torch

#: Where Linux says how much memory is available.
MEMINFO = "/proc/meminfo"


def available_memory(device=None):
    """Bytes of memory available to a new allocation, or None if unknown.

    Parameters
    ----------
    device : torch.device or None, default=None
        Where the memory is taken; None is the host's memory.

    Returns
    -------
    n_bytes : int or None
        On the CPU, Linux's ``MemAvailable`` (free memory plus the page
        cache and other memory the kernel can reclaim), elsewhere the free
        pages where the platform says; on a CUDA device, its free memory and
        what torch holds there unused; None for another device or where the
        platform does not say.
    """
    if device is not None and device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        cached = torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(
            device
        )
        return free + cached
    if device is not None and device.type != "cpu":
        return None
    try:
        with open(MEMINFO) as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not on this platform
        return None
