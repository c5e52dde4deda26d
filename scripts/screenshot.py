#!/usr/bin/env python3
"""Render a tmux capture with colours (`tmux capture-pane -e -p`) to a PNG.

Usage: scripts/screenshot.py CAPTURE.txt OUT.png
Needs Pillow (`pip install pillow`) and the DejaVu Sans Mono font from Debian's fonts-dejavu.
"""
import re
import sys

from PIL import Image, ImageDraw, ImageFont

FONT_DIR = "/usr/share/fonts/truetype/dejavu/"
BASIC = [(0, 0, 0), (205, 49, 49), (13, 188, 121), (229, 229, 16), (36, 114, 200),
         (188, 63, 188), (17, 168, 205), (229, 229, 229)]
BRIGHT = [(102, 102, 102), (241, 76, 76), (35, 209, 139), (245, 245, 67), (59, 142, 234),
          (214, 112, 214), (41, 184, 219), (255, 255, 255)]
DEFAULT_FG, DEFAULT_BG = (220, 220, 220), (24, 26, 31)
SGR = re.compile(r"\x1b\[([0-9;]*)m")


def colour_256(index):
    if index < 8:
        return BASIC[index]
    if index < 16:
        return BRIGHT[index - 8]
    if index < 232:
        index -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return steps[index // 36], steps[(index // 6) % 6], steps[index % 6]
    grey = 8 + (index - 232) * 10
    return grey, grey, grey


def apply_sgr(params, state):
    codes = [int(code) if code else 0 for code in params.split(";")] if params else [0]
    i = 0
    while i < len(codes):
        code = codes[i]
        if code == 0:
            state.update(fg=DEFAULT_FG, bg=DEFAULT_BG, bold=False, reverse=False)
        elif code == 1:
            state["bold"] = True
        elif code == 22:
            state["bold"] = False
        elif code == 7:
            state["reverse"] = True
        elif code == 27:
            state["reverse"] = False
        elif 30 <= code <= 37:
            state["fg"] = BASIC[code - 30]
        elif 90 <= code <= 97:
            state["fg"] = BRIGHT[code - 90]
        elif 40 <= code <= 47:
            state["bg"] = BASIC[code - 40]
        elif 100 <= code <= 107:
            state["bg"] = BRIGHT[code - 100]
        elif code == 39:
            state["fg"] = DEFAULT_FG
        elif code == 49:
            state["bg"] = DEFAULT_BG
        elif code in (38, 48) and i + 1 < len(codes):
            key = "fg" if code == 38 else "bg"
            if codes[i + 1] == 5 and i + 2 < len(codes):
                state[key] = colour_256(codes[i + 2])
                i += 2
            elif codes[i + 1] == 2 and i + 4 < len(codes):
                state[key] = tuple(codes[i + 2:i + 5])
                i += 4
        i += 1


def main():
    capture, out = sys.argv[1], sys.argv[2]
    lines = open(capture, encoding="utf-8").read().rstrip("\n").split("\n")
    regular = ImageFont.truetype(FONT_DIR + "DejaVuSansMono.ttf", 15)
    bold = ImageFont.truetype(FONT_DIR + "DejaVuSansMono-Bold.ttf", 15)
    cell_w = round(regular.getlength("M"))
    cell_h = 19
    columns = max(len(SGR.sub("", line)) for line in lines)
    image = Image.new("RGB", (cell_w * columns + 16, cell_h * len(lines) + 16), DEFAULT_BG)
    draw = ImageDraw.Draw(image)
    state = dict(fg=DEFAULT_FG, bg=DEFAULT_BG, bold=False, reverse=False)
    for row, line in enumerate(lines):
        column = 0
        for part in re.split(r"(\x1b\[[0-9;]*m)", line):
            match = SGR.fullmatch(part)
            if match:
                apply_sgr(match.group(1), state)
                continue
            for char in part:
                fg, bg = state["fg"], state["bg"]
                if state["reverse"]:
                    fg, bg = bg, fg
                x, y = 8 + column * cell_w, 8 + row * cell_h
                draw.rectangle([x, y, x + cell_w, y + cell_h], fill=bg)
                draw.text((x, y), char, font=bold if state["bold"] else regular, fill=fg)
                column += 1
    image.save(out)


if __name__ == "__main__":
    main()
