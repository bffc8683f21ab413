"""The trainer's memory estimate: a warning pointing at --engine spark only when it will not fit."""
from __future__ import annotations

from bento import memory
from bento.recsys.algorithms import EASE_MAX_ITEMS
from tests.conftest import run_module


def test_row_count_is_estimated_from_the_file_size(sample_data_dir):
    lines = len((sample_data_dir / "interactions.csv").read_text().splitlines()) - 1
    assert abs(memory.count_rows(sample_data_dir / "interactions.csv") - lines) <= lines * 0.05


def test_ease_costs_its_dense_matrices_up_to_its_head():
    """Dense EASE over the catalogue, and over its EASE_MAX_ITEMS head past that."""
    none = memory.estimate_bytes(1_000_000, 0, EASE_MAX_ITEMS)
    small = memory.estimate_bytes(1_000_000, 1000, EASE_MAX_ITEMS)
    head = memory.estimate_bytes(1_000_000, EASE_MAX_ITEMS, EASE_MAX_ITEMS)
    larger = memory.estimate_bytes(1_000_000, 10 * EASE_MAX_ITEMS, EASE_MAX_ITEMS)
    assert small - none == memory.EASE_DENSE_COPIES * 8 * 1000 * 1000
    assert larger == head == none + memory.EASE_DENSE_COPIES * 8 * EASE_MAX_ITEMS ** 2


def test_warns_past_the_available_memory(sample_data_dir, monkeypatch):
    assert memory.fit_warning(sample_data_dir, EASE_MAX_ITEMS) is None
    monkeypatch.setattr(memory, "available_bytes", lambda: 100 * 2**20)
    warning = memory.fit_warning(sample_data_dir, EASE_MAX_ITEMS)
    assert "GiB are available" in warning and "--engine spark" in warning


def test_available_memory_comes_from_meminfo(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       16000000 kB\nMemAvailable:    2048 kB\n")
    assert memory.available_bytes(meminfo) == 2048 * 1024
    assert memory.available_bytes(tmp_path / "absent") == 2**62


def test_a_missing_data_dir_is_left_to_the_loader(tmp_path):
    assert memory.fit_warning(tmp_path, EASE_MAX_ITEMS) is None
    result = run_module("bento.train", "--data", str(tmp_path), check=False)
    assert result.returncode == 2 and "warning: about" not in result.stderr


def test_the_estimate_reproduces_the_measured_peaks():
    """The fit stays within 10% of each bench.ceiling measurement it was made from (EASE's
    dense head of 4,096 playlists included), and grows with the interactions."""
    assert memory.MEASURED_HEAD == EASE_MAX_ITEMS and len(memory.MEASURED) >= 3
    for interactions, playlists, mib in memory.MEASURED:
        estimate = memory.estimate_bytes(interactions, playlists, EASE_MAX_ITEMS) / 2**20
        assert abs(estimate - mib) <= 0.1 * mib
    assert 100 < memory.BYTES_PER_INTERACTION < 2000 and memory.BASE_BYTES > 0
