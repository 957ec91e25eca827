"""Every end reason has an exit code and a report label, and nothing else does."""

from __future__ import annotations

from bots.exit_codes import END_REASON_EXIT_CODES, exit_code_for, reason_for_exit_code
from interview.end_reason import END_REASONS
from report.header import END_LABELS


def test_every_end_reason_has_its_own_exit_code_that_reads_back() -> None:
    assert set(END_REASON_EXIT_CODES) == set(END_REASONS)
    assert len(set(END_REASON_EXIT_CODES.values())) == len(END_REASONS)
    assert all(reason_for_exit_code(exit_code_for(reason)) == reason for reason in END_REASONS)


def test_every_end_reason_has_a_report_label() -> None:
    assert set(END_LABELS) == set(END_REASONS)
