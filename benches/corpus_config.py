#!/usr/bin/env python3
"""Writes a parley config for a corpus from ../shared/bench/gen_corpus.py (issue 17's setup):
every actor of its actors.json, one sentence-scope rule that fires on any two of them, a
stdout notifier, and one [[feed]] per feeds/*.xml (local files).

Usage: corpus_config.py CORPUS_DIR [--state DIR]   (writes CORPUS_DIR/parley.toml)
"""
import argparse, glob, json, os


def q(s):
    return json.dumps(s)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("corpus")
    p.add_argument("--state", default="state")
    a = p.parse_args()
    actors = json.load(open(os.path.join(a.corpus, "actors.json")))
    out = [f'[daemon]\nstate_dir = {q(a.state)}\nconcurrency = 16\n']
    for path in sorted(glob.glob(os.path.join(a.corpus, "feeds", "*.xml"))):
        name = os.path.basename(path)[:-4]
        out.append(f'[[feed]]\nurl = {q("feeds/" + os.path.basename(path))}\nname = {q(name)}\n')
    for act in actors:
        out.append(f'[[actor]]\nid = {q(act["id"])}\nname = {q(act["name"])}\n'
                   f'kind = {q(act.get("kind", "person"))}\n'
                   f'aliases = [{", ".join(q(x) for x in act["aliases"])}]\n')
    ids = ", ".join(q(act["id"]) for act in actors)
    out.append(f'[[rule]]\nid = "any-two"\nactors = [{ids}]\nmin_actors = 2\n'
               f'scope = "sentence"\nnotify = ["console"]\n')
    out.append('[[notifier]]\nid = "console"\ntype = "stdout"\n')
    with open(os.path.join(a.corpus, "parley.toml"), "w") as fh:
        fh.write("\n".join(out))


if __name__ == "__main__":
    main()
