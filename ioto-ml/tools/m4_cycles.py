#!/usr/bin/env python3
"""Estimated Cortex-M4 cycles of each `Interpreter::invoke` in a `bench_ml` firmware.

QEMU counts instructions, not cycles, and its TCG plugins are not installed here. This
script runs the firmware once under `-singlestep -d exec,nochain` (one log line per
executed instruction), streams the log through a FIFO and prices every instruction with
the Cortex-M4 timings of the ARM Technical Reference Manual (zero-wait-state memory):

- LDR/STR (any width) 2 cycles, LDRD/STRD 3, LDM/STM/PUSH/POP 1 + registers;
- SDIV/UDIV 7 (2 to 12); every other instruction 1 (MUL, MLA, SMLAD, SMLAL, SXTB16, ...);
- a taken branch 2 more (pipeline refill; the next logged PC is not the next one).

It ignores load pipelining (adjacent loads can overlap, so this leans high) and flash
wait states (real parts at speed add some, so that leans low). The regions printed are
the stretches between entries of `Interpreter::invoke`: the first of each model's two
invokes is exactly one inference.

usage: m4_cycles.py ELF   (prints `model instructions cycles cycles_per_mac` for the
first inference of each model the firmware benchmarks)
"""

import os
import re
import subprocess
import sys
import tempfile

BRANCH = re.compile(r"^(b|bl|bx|blx|cbz|cbnz|tbb|tbh|b(eq|ne|cs|hs|cc|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le))$")
LINE = re.compile(r"\s*([0-9a-f]+):\s+((?:[0-9a-f]{2} ?)+)\s*\t(\S+)\s*(.*)")


def registers(ops: str) -> int:
    """Registers in a `{...}` list (ranges counted in full)."""
    m = re.search(r"\{(.*)\}", ops)
    if not m:
        return 1
    n = 0
    for r in m.group(1).split(","):
        a, _, b = r.strip().partition("-")
        n += int(b[1:]) - int(a[1:]) + 1 if b and a[1:].isdigit() and b[1:].isdigit() else 1
    return n


def price(elf: str):
    """Per-PC (cycles, size, is_branch) from the disassembly."""
    table = {}
    dis = subprocess.run(["llvm-objdump", "-d", elf], check=True, capture_output=True, text=True)
    for line in dis.stdout.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        pc, size = int(m.group(1), 16), len(m.group(2).split())
        mn, ops = m.group(3).split(".")[0], m.group(4)
        cycles = 1
        if mn in ("ldrd", "strd"):
            cycles = 3
        elif mn in ("push", "pop") or mn.startswith(("ldm", "stm")):
            cycles = 1 + registers(ops)
        elif mn.startswith(("ldr", "str")):
            cycles = 2
        elif mn in ("sdiv", "udiv"):
            cycles = 7
        writes_pc = (mn == "pop" and "pc" in ops) or (mn.startswith("ldr") and ops.startswith("pc"))
        branch = bool(BRANCH.match(mn)) or writes_pc
        table[pc] = (cycles, size, branch)
    return table


def main() -> None:
    elf = sys.argv[1]
    table = price(elf)
    syms = subprocess.run(["llvm-nm", "-C", elf], check=True, capture_output=True, text=True).stdout
    mark = next(int(s.split()[0], 16) for s in syms.splitlines() if s.endswith("Interpreter>::invoke"))
    with tempfile.TemporaryDirectory() as tmp:
        fifo = os.path.join(tmp, "exec")
        os.mkfifo(fifo)
        qemu = subprocess.Popen(
            ["qemu-system-arm", "-machine", "mps2-an386", "-cpu", "cortex-m4", "-nographic",
             "-monitor", "none", "-serial", "none", "-semihosting-config", "enable=on,target=native",
             "-icount", "shift=0", "-singlestep", "-d", "exec,nochain", "-D", fifo, "-kernel", elf],
            stdout=subprocess.PIPE,
        )
        counts, cycles = [0], [0]
        taken_check, next_pc = False, -1
        with open(fifo, "rb") as log:
            for line in log:
                if not line.startswith(b"Trace"):
                    continue
                i = line.find(b"/")
                pc = int(line[i + 1 : i + 9], 16)
                c, size, branch = table.get(pc, (1, 2, False))
                if taken_check and pc != next_pc:
                    c += 2
                if pc == mark:
                    counts.append(0)
                    cycles.append(0)
                counts[-1] += 1
                cycles[-1] += c
                taken_check, next_pc = branch, pc + size
        output = qemu.communicate()[0].decode()
    lines = [line for line in output.splitlines() if line.startswith("BENCH ")]
    benches = [dict(kv.split("=", 1) for kv in line.split()[1:]) for line in lines]
    # Region 0 runs up to the first invoke; then two invokes per model.
    for i, bench in enumerate(benches):
        n, c = counts[2 * i + 1], cycles[2 * i + 1]
        print(bench["model"], n, c, f"{c / int(bench['macs']):.2f}")


if __name__ == "__main__":
    main()
