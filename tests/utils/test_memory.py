import torch

from sktransfer.utils import _memory


def test_available_memory_counts_what_the_kernel_can_reclaim(tmp_path, monkeypatch):
    # the free pages alone leave out the page cache: a machine that had
    # read a few large files refused requests that fit
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal: 1000 kB\nMemFree: 10 kB\nMemAvailable: 600 kB\n")
    monkeypatch.setattr(_memory, "MEMINFO", str(meminfo))
    assert _memory.available_memory() == 600 * 1024
    assert _memory.available_memory(torch.device("cpu")) == 600 * 1024
    # where there is no such file, the free pages
    monkeypatch.setattr(_memory, "MEMINFO", str(tmp_path / "absent"))
    pages = {"SC_AVPHYS_PAGES": 7, "SC_PAGE_SIZE": 4096}
    monkeypatch.setattr(_memory.os, "sysconf", pages.__getitem__)
    assert _memory.available_memory() == 7 * 4096

    def unknown(name):
        raise ValueError(f"unrecognized configuration name {name}")

    monkeypatch.setattr(_memory.os, "sysconf", unknown)
    assert _memory.available_memory() is None


def test_a_device_whose_memory_is_not_known_is_not_checked():
    assert _memory.available_memory(torch.device("meta")) is None
