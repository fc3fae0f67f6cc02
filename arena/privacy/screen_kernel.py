"""The compiled loop of `arena.privacy.screen` (numba); see that module for what each test stands for.

Everything here is a plain function of arrays built by `screen._Tables`, compiled on first use and
cached on disk where numba finds a place for it. Importing this module imports numba (an ImportError
without it); `screen` then falls back to "screen nothing".
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np


def _jit(fn: Any) -> Any:
    # With no writable cache location numba refuses cache=True at once (numba/numba#4908): compile in memory.
    try:
        return numba.njit(nogil=True, cache=True)(fn)
    except RuntimeError:
        return numba.njit(nogil=True)(fn)


_OFFSET = np.uint64(0xCBF29CE484222325)  # 64-bit FNV-1a, as `screen.fnv1a`
_PRIME = np.uint64(0x100000001B3)


@_jit
def lookup(keys: Any, values: Any, h: Any) -> int:
    """The value stored for hash h in an open-addressing table, or -1."""
    mask = np.uint64(keys.shape[0] - 1)
    slot = h & mask
    while keys[slot] != 0:
        if keys[slot] == h:
            return values[slot]
        slot = (slot + np.uint64(1)) & mask
    return -1


@_jit
def is_digit(c: Any) -> bool:
    return 48 <= c <= 57


@_jit
def is_upper(c: Any) -> bool:
    return 65 <= c <= 90


@_jit
def is_lower(c: Any) -> bool:
    return 97 <= c <= 122


@_jit
def is_hex(c: Any) -> bool:
    return 48 <= c <= 57 or 65 <= c <= 70 or 97 <= c <= 102


@_jit
def fold(c: Any) -> Any:
    return c + 32 if 65 <= c <= 90 else c


@_jit
def mac_at(buf: Any, i: int, e: int) -> bool:
    """Six hex pairs with one separator (":" or "-") from position i."""
    if i + 17 > e or not (is_hex(buf[i]) and is_hex(buf[i + 1])):
        return False
    sep = buf[i + 2]
    if sep != 58 and sep != 45:
        return False
    for g in range(1, 6):
        p = i + 3 * g
        if not (is_hex(buf[p]) and is_hex(buf[p + 1])):
            return False
        if g < 5 and buf[p + 2] != sep:
            return False
    return True


@_jit
def ipv4_at(buf: Any, i: int, e: int) -> bool:
    """Four runs of 1-3 digits joined by one separator (".", "-" or "_"), the first starting at i.

    Every match of the IPv4 pattern is such a structure: an octet is 1-3 digits, and the look-arounds
    and separators make each octet a whole run of digits.
    """
    j, sep = i, np.uint8(0)
    for octet in range(4):
        n = 0
        while j < e and n < 4 and is_digit(buf[j]):
            j += 1
            n += 1
        if n < 1 or n > 3:
            return False
        if octet == 3:
            return True
        if j >= e or (buf[j] != 46 and buf[j] != 45 and buf[j] != 95) or (octet > 0 and buf[j] != sep):
            return False
        sep = buf[j]
        j += 1
    return False


@_jit
def capitals_then_digits_at(buf: Any, i: int, e: int) -> bool:
    """Two capitals, then two digits, optionally one space apart (IBAN and NINO starts: "AA00", "AA 00")."""
    if i + 3 >= e or not is_upper(buf[i + 1]):
        return False
    if is_digit(buf[i + 2]) and is_digit(buf[i + 3]):
        return True
    return buf[i + 2] == 32 and i + 4 < e and is_digit(buf[i + 3]) and is_digit(buf[i + 4])


@_jit
def local_phone_at(buf: Any, i: int, e: int) -> bool:
    """ddd-dddd ("000-0000" in the class shape)."""
    if i + 8 > e or buf[i + 3] != 45:
        return False
    for k in (1, 2, 4, 5, 6, 7):  # noqa: SIM110 (a loop numba compiles; all() over a generator it does not)
        if not is_digit(buf[i + k]):
            return False
    return True


@_jit
def header_at(buf: Any, i: int, e: int, hdr_bytes: Any, hdr_off: Any) -> bool:
    """A mail header word, then spaces or tabs and a colon, from position i (a line start)."""
    for h in range(hdr_off.shape[0] - 1):
        a, b = hdr_off[h], hdr_off[h + 1]
        if i + (b - a) > e:
            continue
        ok = True
        for k in range(b - a):
            if buf[i + k] != hdr_bytes[a + k]:
                ok = False
                break
        if not ok:
            continue
        j = i + (b - a)
        while j < e and (buf[j] == 32 or buf[j] == 9):
            j += 1
        if j < e and buf[j] == 58:
            return True
    return False


@_jit
def literals_at(buf: Any, i: int, e: int, nd_bytes: Any, nd_off: Any, nd_lower: Any, nd_bit: Any,
                disp_off: Any, disp_ids: Any) -> int:
    hits = 0
    c = buf[i]
    for k in range(disp_off[c], disp_off[c + 1]):
        n = disp_ids[k]
        a, b = nd_off[n], nd_off[n + 1]
        if i + (b - a) > e:
            continue
        ok = True
        for j in range(b - a):
            x = buf[i + j]
            if nd_lower[n]:
                x = fold(x)
            if x != nd_bytes[a + j]:
                ok = False
                break
        if ok:
            hits |= nd_bit[n]
    return hits


@_jit
def gated_cue(present: Any, grp_off: Any, grp_ids: Any, alt_off: Any, alt_grps: Any) -> bool:
    """Whether an alternative of a gated cue kind has a keyword of each of its groups."""
    for a in range(alt_off.shape[0] - 1):
        ok = True
        for g in alt_grps[alt_off[a]:alt_off[a + 1]]:
            found = False
            for k in grp_ids[grp_off[g]:grp_off[g + 1]]:
                if present[k]:
                    found = True
                    break
            if not found:
                ok = False
                break
        if ok:
            return True
    return False


@_jit
def screen(buf: Any, starts: Any, ends: Any, groups: Any, single: Any, pairs: Any, nd_bytes: Any, nd_off: Any,
           nd_lower: Any, nd_bit: Any, disp_off: Any, disp_ids: Any, hdr_bytes: Any, hdr_off: Any, kw_hash: Any,
           kw_id: Any, grp_off: Any, grp_ids: Any, alt_off: Any, alt_grps: Any, name_hash: Any, name_kind: Any,
           present: Any, out: Any) -> None:
    """Screen texts buf[starts[t]:ends[t]]; out[t] = (not screenable, detectors might hit, names might hit).

    `single` holds the bits one-byte needles set, `pairs` marks the byte pairs longer needles start with.
    `groups` holds the bit each kind of literal sets in `nd_bit`: secrets and other structured hints,
    "dot", "at", id hints, vendor-key literals, name cues (in that order). `present` is scratch space
    for the cue keywords of one text (zeros on entry and on return).
    """
    struct_bit, dot_bit, at_bit, id_bit, vendor_bit, cue_bit = (
        groups[0], groups[1], groups[2], groups[3], groups[4], groups[5])
    for t in range(starts.shape[0]):
        s, e = starts[t], ends[t]
        bad = False
        lits = 0
        digits = zrun = zmax = trun = tmax = 0
        shapes = mac = colon_hex = header = lexicon = any_keyword = False
        w_start = -1
        w_hash = _OFFSET
        l_start = -1
        l_hash = _OFFSET
        l_upper = 0
        l_second = -1
        for i in range(s, e + 1):
            c = buf[i] if i < e else np.uint8(0)
            letter = is_upper(c) or is_lower(c)
            word = letter or is_digit(c) or c == 95
            # The letter run [l_start, i) ends here: a first name from the lexicon?
            if l_start >= 0 and not letter:
                n = i - l_start
                if n >= 3 and is_upper(buf[l_start]) and not lexicon:
                    kind = lookup(name_hash, name_kind, l_hash)
                    if kind < 0:
                        pass
                    elif l_upper == 1:
                        if kind & 1 or (kind & 2 and i + 1 < e and buf[i] == 32 and is_upper(buf[i + 1])):
                            lexicon = True
                    elif l_upper == 2 and l_second - l_start >= 2 and i - l_second >= 2:
                        lexicon = True
                l_start = -1
            # The word [w_start, i) ends here: a cue keyword?
            if w_start >= 0 and not word:
                k = lookup(kw_hash, kw_id, w_hash)
                if k >= 0:
                    present[k] = 1
                    any_keyword = True
                w_start = -1
            if i == e:
                break
            if letter:
                if l_start < 0:
                    l_start, l_hash, l_upper, l_second = i, _OFFSET, 0, -1
                if is_upper(c):
                    l_upper += 1
                    if l_upper == 2:
                        l_second = i
                l_hash = (l_hash ^ np.uint64(fold(c))) * _PRIME
            if word:
                if w_start < 0:
                    w_start, w_hash = i, _OFFSET
                w_hash = (w_hash ^ np.uint64(fold(c))) * _PRIME
            if c < 32:
                if c != 9 and c != 10 and c != 13:
                    bad = True
            elif c > 126:
                bad = True
            lits |= single[c]
            if i + 1 < e and pairs[(np.int64(c) << 8) | buf[i + 1]]:
                lits |= literals_at(buf, i, e, nd_bytes, nd_off, nd_lower, nd_bit, disp_off, disp_ids)
            if is_digit(c):
                digits += 1
                zrun += 1
                zmax = max(zmax, zrun)
                run_start = i == s or not is_digit(buf[i - 1])
                if not shapes and ((run_start and ipv4_at(buf, i, e)) or local_phone_at(buf, i, e)):
                    shapes = True
            elif c != 32 and c != 46 and c != 45 and c != 40 and c != 41 and c != 43:
                zrun = 0
            if word or c == 43 or c == 47 or c == 45:
                trun += 1
                tmax = max(tmax, trun)
            else:
                trun = 0
            if is_upper(c) and not shapes and capitals_then_digits_at(buf, i, e):
                shapes = True
            if not mac and i + 17 <= e and (buf[i + 2] == 58 or buf[i + 2] == 45) and mac_at(buf, i, e):
                mac = True
            if c == 58 and not colon_hex:
                j = i + 1
                while j < e and j - i <= 4 and is_hex(buf[j]):
                    j += 1
                if j < e and buf[j] == 58:
                    colon_hex = True
            if (i == s or buf[i - 1] == 10) and not header and header_at(buf, i, e, hdr_bytes, hdr_off):
                header = True
        structured = (lits & struct_bit) != 0 or ((lits & dot_bit) != 0 and (lits & at_bit) != 0) or mac or colon_hex
        if digits >= 4 and (zmax >= 9 or shapes or (lits & id_bit) != 0):
            structured = True
        if tmax >= 11 and (tmax >= 32 or (lits & vendor_bit) != 0):
            structured = True
        names = (lits & cue_bit) != 0 or header or lexicon
        if any_keyword:
            if not names and gated_cue(present, grp_off, grp_ids, alt_off, alt_grps):
                names = True
            present[:] = 0
        out[t, 0], out[t, 1], out[t, 2] = bad, structured, names

