"""The sandbox's pieces on their own, without a sandbox: message decoding, error records, the event pump."""

import os
import subprocess
import time

import pytest

from grader.sandbox.limits import Limits
from grader.sandbox.pump import STARTUP, Pump, RunLimit, Step, StepKind, StepLimit
from grader.sandbox.runtime import protocol
from grader.sandbox.steps import ErrorRecord, StepStatus


def frame(message: dict, payload: bytes = b"") -> bytes:
    read, write = os.pipe()
    protocol.send(write, message, payload)
    os.close(write)
    data = os.read(read, 1 << 20)
    os.close(read)
    return data


def test_decoder_reassembles_messages_split_anywhere():
    data = frame({"event": "a"}, b"xyz") + frame({"event": "b"})
    for cut in range(len(data) + 1):
        decoder = protocol.Decoder(1 << 20)
        messages = decoder.feed(data[:cut]) + decoder.feed(data[cut:])
        assert messages == [({"event": "a"}, b"xyz"), ({"event": "b"}, b"")]


def test_decoder_refuses_oversized_and_non_object_messages():
    with pytest.raises(ValueError, match="exceeds the limit"):
        protocol.Decoder(2).feed(frame({"event": "a"}, b"xyz"))
    with pytest.raises(ValueError, match="not a JSON object"):
        protocol.Decoder(1 << 20).feed(protocol.HEADER.pack(2, 0) + b"[]")


@pytest.mark.parametrize("junk", [None, 3, "text", [], {"frames": "nope"}, {"frames": [1, {"line": "x"}]}])
def test_error_records_from_anything_a_process_sends(junk):
    record = ErrorRecord.parse(junk)
    assert record is None or (isinstance(record.message, str) and all(f.line is None for f in record.frames))


def test_step_status_of_unknown_text_is_an_error():
    assert StepStatus.parse("ok") == StepStatus.OK and StepStatus.parse("passed!") == StepStatus.ERROR


class FakeProcess:
    """What the pump needs of a process: a results pipe, an output pipe, a CPU clock, limits, finish()."""

    def __init__(self, limits=Limits(), cpu=lambda: 0.0):
        self.limits = limits
        self.results_fd, self.results_write = os.pipe()
        self.popen = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.cpu = cpu
        self.finished_with = None

    def say(self, message: dict) -> None:
        protocol.send(self.results_write, message)

    def print(self, text: bytes) -> None:
        self.popen.stdin.write(text)
        self.popen.stdin.flush()

    def cpu_seconds(self) -> float:
        return self.cpu()

    def finish(self, killed: bool) -> str:
        self.finished_with = "killed" if killed else "ended"
        self.popen.kill()
        self.popen.wait()
        os.close(self.results_fd)
        os.close(self.results_write)
        return "it ended on its own"


def follow_steps(message, payload, step):
    event = message["event"]
    if event == "finished":
        return Step(StepKind.FINISHED)
    return Step(StepKind.PROBE, message["probe"]) if event == "probe_start" else step


def pump(process, step_limit=StepLimit("test", 1.0), run_seconds=30.0, run_cpu=None):
    return Pump(
        process,
        step_limit,
        RunLimit("the whole submission", time.monotonic() + run_seconds, run_seconds, run_cpu),
        follow_steps,
    ).run()


def test_pump_follows_steps_to_the_end():
    process = FakeProcess()
    process.say({"event": "probe_start", "probe": "f.one"})
    process.say({"event": "finished"})
    result = pump(process)
    assert result.stop is None and result.step.kind == StepKind.FINISHED and process.finished_with == "ended"


def test_a_silent_step_is_stopped_at_its_time_limit_and_named():
    process = FakeProcess()
    process.say({"event": "probe_start", "probe": "f.hangs"})
    result = pump(process)
    assert result.step == Step(StepKind.PROBE, "f.hangs") and process.finished_with == "killed"
    assert result.stop.status == StepStatus.TIMEOUT and "time limit of 1 s for one test" in result.stop.reason


def test_the_workers_own_start_has_its_own_limit_not_a_tests():
    """Importing torch on a cold or busy machine can take longer than one test may: that is no test's fault."""
    process = FakeProcess(limits=Limits(startup_seconds=1.0))
    result = pump(process, step_limit=StepLimit("test", 0.2))
    assert result.step == STARTUP and result.stop.status == StepStatus.TIMEOUT
    assert "time limit of 1 s for one start of the worker" in result.stop.reason


def test_the_run_deadline_is_named_when_it_comes_first():
    result = pump(FakeProcess(), step_limit=StepLimit("test", 10.0), run_seconds=0.5)
    assert result.step == STARTUP and "for the whole submission" in result.stop.reason


def test_cpu_time_is_counted_per_step_not_wall_time():
    spent = [0.0]

    def cpu():
        spent[0] += 1.0  # a second of CPU between two looks at the clock
        return spent[0]

    process = FakeProcess(cpu=cpu)
    process.say({"event": "probe_start", "probe": "f.busy"})
    result = pump(process, step_limit=StepLimit("cell", 60.0, cpu_seconds=3.0))
    assert result.stop.status == StepStatus.TIMEOUT and result.stop.limit == "CPU time per cell"
    assert "CPU-time limit of 3 s for one cell" in result.stop.reason


def test_a_flood_of_output_is_stopped():
    process = FakeProcess(limits=Limits(output_bytes=1000))
    process.say({"event": "probe_start", "probe": "f.prints"})
    process.print(b"x" * 5000)
    result = pump(process, step_limit=StepLimit("test", 5.0))
    assert result.stop.status == StepStatus.ERROR and "output limit" in result.stop.reason
    assert result.output.endswith(b"x")


def test_a_process_that_ends_without_finishing_says_why():
    process = FakeProcess()
    process.say({"event": "probe_start", "probe": "f.exits"})
    os.close(process.results_write)
    process.results_write = os.open(os.devnull, os.O_WRONLY)  # finish() closes it again
    process.popen.stdin.close()
    result = pump(process)
    assert result.stop.status == StepStatus.ERROR and result.stop.reason == "it ended on its own"
