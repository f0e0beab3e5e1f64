#!/usr/bin/env python3
"""Generates N synthetic RSS feeds of M full-text items each, plus a parley config that polls
them as local files, for timing `parley run --once` (see benches/run_once.sh).

The text is synthetic news English built from templates, naming the shipped watchlists' actors
in some sentences so that extraction and alerting do real work. Deterministic for a given seed.
"""
import argparse
import os
import random
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from xml.sax.saxutils import escape

NAMES = [
    "Antony Blinken", "Najib Mikati", "Benjamin Netanyahu", "Ayman Safadi", "Sameh Shoukry",
    "King Abdullah II", "Faisal bin Farhan", "Hakan Fidan", "Recep Tayyip Erdogan",
]
PLACES = ["Amman", "Cairo", "Doha", "Beirut", "Ankara", "Riyadh", "Geneva", "Vienna", "Brussels"]
VERBS = ["met", "held talks with", "spoke by phone with", "urged", "criticized", "welcomed",
         "hosted", "received", "agreed with", "warned"]
FILLER = [
    "Officials described the discussions as frank and constructive.",
    "The ministry did not immediately respond to a request for comment.",
    "Analysts said the outcome would depend on events on the ground in the coming weeks.",
    "Trade figures released on Tuesday showed a modest rise in exports for the quarter.",
    "Humanitarian agencies warned that supplies of fuel and medicine were running low.",
    "The central bank left interest rates unchanged, citing persistent inflation.",
    "Opposition lawmakers called for an inquiry into the handling of the crisis.",
    "Diplomats said a further round of talks could take place before the end of the month.",
]


def article(rng, i):
    sentences = []
    for _ in range(rng.randint(26, 38)):
        if rng.random() < 0.25:
            a, b = rng.sample(NAMES, 2)
            sentences.append(f"{a} {rng.choice(VERBS)} {b} in {rng.choice(PLACES)} on day {i}.")
        else:
            sentences.append(rng.choice(FILLER))
    return " ".join(sentences)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--feeds", type=int, default=50)
    p.add_argument("--items", type=int, default=100)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--watchlists", required=True, help="glob of the watchlists to include")
    args = p.parse_args()
    rng = random.Random(args.seed)
    os.makedirs(os.path.join(args.out, "feeds"), exist_ok=True)
    base = datetime(2023, 11, 1, tzinfo=timezone.utc)
    total = 0
    for f in range(args.feeds):
        parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
                 f"<title>Synthetic {f}</title><link>https://example.org/{f}/</link>"
                 f"<description>synthetic</description>\n"]
        for i in range(args.items):
            when = format_datetime(base + timedelta(minutes=f * args.items + i))
            body = escape(article(rng, f * args.items + i))
            parts.append(f"<item><guid>f{f}-i{i}</guid><title>Report {f}-{i}</title>"
                         f"<link>https://example.org/{f}/{i}</link><pubDate>{when}</pubDate>"
                         f"<description>{body}</description></item>\n")
        parts.append("</channel></rss>\n")
        data = "".join(parts)
        total += len(data.encode())
        with open(os.path.join(args.out, "feeds", f"feed{f}.xml"), "w") as fh:
            fh.write(data)
    with open(os.path.join(args.out, "parley.toml"), "w") as fh:
        fh.write(f'include = ["{args.watchlists}"]\n[daemon]\nstate_dir = "state"\nconcurrency = 16\n')
        for f in range(args.feeds):
            fh.write(f'[[feed]]\nurl = "feeds/feed{f}.xml"\nname = "Synthetic {f}"\n')
        fh.write('[[notifier]]\nid = "console"\ntype = "stdout"\n')
    print(f"{args.feeds} feeds x {args.items} items, {total / 1e6:.1f} MB in {args.out}")


if __name__ == "__main__":
    main()
