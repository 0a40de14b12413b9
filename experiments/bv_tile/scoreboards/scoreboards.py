#!/usr/bin/env python3
"""Where ptxas makes a decode kernel wait among its state loads (experiments/bv_tile, v21).

Reads the SASS that `cuobjdump -sass OBJECT` prints and decodes each instruction's control
bits: the scoreboard its result is counted on ("wr", 0-5), the one that guards its source
registers until the memory unit has read them ("rd"), and the scoreboards it waits for ("W").
The layout used (bits 41-62 of the second 64-bit word of a Volta-and-later instruction:
stall 41-44, write barrier 46-48, read barrier 49-51, wait mask 52-57; 7 = none) is the
publicly reverse-engineered one, not an NVIDIA-documented format.

  scoreboards.py summary SASS...        one line per kernel: its state loads (the 64- and
                                        128-bit non-volatile global loads, or cp.async, before
                                        its first floating-point multiply) and how many are
                                        issued before an instruction waits on a scoreboard
                                        that one of them is counted on ("split"), or "ok"
  scoreboards.py listing SASS PATTERN   the prologue of the kernels whose mangled name
                                        contains PATTERN: loads, waits, the grid-dependency
                                        wait (ACQBULK), up to the first multiply-add

A split means the state loads after the waiting instruction leave one round trip late: the
wait holds everything counted on that scoreboard, the loads already issued included.
"""
import re
import sys

LINE = re.compile(r"\s*/\*([0-9a-f]{4,})\*/\s+(.*?);?\s*/\* (0x[0-9a-f]+) \*/")
SECOND_WORD = re.compile(r"\s*/\* (0x[0-9a-f]+) \*/")
STATE_LOAD = re.compile(r"LDG\.E(\.LTC256B)?\.(128|64)\s")
FIRST_MATH = re.compile(r"(@\S+\s+)?(FFMA|FMUL)\b")


def kernels(path):
    """{mangled name: [(offset, text, wait mask, write scoreboard, read scoreboard)]}"""
    out, name, pending = {}, None, None
    with open(path) as f:
        for line in f:
            if "Function :" in line:
                name = line.split("Function :")[1].strip()
                out[name] = []
                continue
            m = LINE.match(line)
            if m:
                pending = (int(m.group(1), 16), m.group(2).strip())
                continue
            m = SECOND_WORD.match(line)
            if m and pending and name:
                hi = int(m.group(1), 16)
                out[name].append((pending[0], pending[1], (hi >> 52) & 0x3F, (hi >> 46) & 7, (hi >> 49) & 7))
                pending = None
    return out


def is_state_load(text):
    return ("STRONG" not in text and STATE_LOAD.search(text + " ") is not None) or "LDGSTS" in text


def short_name(name):
    m = re.search(r"RecurrentTraitsI(.*?)EEEL(b\d)EL(b\d)EN\S*?(BranchFree|Intrinsic)", name)
    if not m:
        return name[:100]
    args = m.group(1).replace("NS0_4bf16E", "bf16 ").replace("S3_", "bf16 ").replace("Li", "").replace("Lb", "b")
    return f"<{args.replace('E', ' ').strip()}> early={m.group(2)[1]} prefetch={m.group(3)[1]} {m.group(4)}"


def prologue_end(ins):
    return next((i for i, (_, text, *_r) in enumerate(ins) if FIRST_MATH.match(text)), len(ins))


def split_of(ins):
    """(state loads before the first wait among them, state loads, the waiting instruction)"""
    loads = [i for i in range(prologue_end(ins)) if is_state_load(ins[i][1])]
    if not loads:
        return None
    counted = set()
    for i in range(loads[0], loads[-1] + 1):
        offset, text, wait, wr, _ = ins[i]
        if counted and any(wait >> b & 1 for b in counted):
            return sum(1 for j in loads if j < i), len(loads), f"{offset:#06x} {text}"
        if i in loads and wr != 7:
            counted.add(wr)
    return len(loads), len(loads), ""


def summary(paths):
    rows = []
    for path in paths:
        for name, ins in kernels(path).items():
            s = split_of(ins)
            if s is None:
                rows.append(("none", "", short_name(name), ""))
            else:
                rows.append(("split" if s[2] else "ok", f"{s[0]}/{s[1]}", short_name(name), s[2]))
    for tag, frac, name, at in sorted(rows):
        print(f"{tag:5s} {frac:>5s} {name}  {at}")
    n_split = sum(1 for r in rows if r[0] == "split")
    print(f"{n_split} of {len(rows)} kernels wait among their state loads")


def listing(path, pattern):
    for name, ins in kernels(path).items():
        if pattern not in name:
            continue
        print("##", short_name(name))
        for offset, text, wait, wr, rd in ins[: prologue_end(ins) + 1]:
            if "LDG" in text or wait or "ACQBULK" in text or "BAR" in text or "STG" in text:
                mask = "".join(str(b) for b in range(6) if wait >> b & 1)
                print(f"  {offset:05x} W:{mask:6s} wr:{'-' if wr == 7 else wr} rd:{'-' if rd == 7 else rd}  {text}")


def main(argv):
    if len(argv) >= 2 and argv[0] == "summary":
        summary(argv[1:])
    elif len(argv) == 3 and argv[0] == "listing":
        listing(argv[1], argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
