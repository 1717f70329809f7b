"""How long cue grounding takes on a runaway explanation, against an ordinary one.

    python benchmarks/bench_cues.py --labels-file "$EMOSIGN_LABELS"

Scores one explanation per clip of the label file with `emosign.cues.grounding_scores` and
`chance_scores` (what `evaluate --task cue_grounding` runs per explanation), once with
ordinary 60-word explanations and once with one 1.2 MB explanation full of cue words and
negations (the worst case for negation scopes and ROUGE-L, both quadratic in length) in
place of the first clip's. Explanations are scored on their first
`cues.MAX_EXPLANATION_TOKENS` words; the 1.2 MB text would otherwise take many minutes.
Prints wall and CPU seconds.
"""

from __future__ import annotations

import argparse
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels-file", default=os.environ.get("EMOSIGN_LABELS"))
    args = parser.parse_args()
    if not args.labels_file:
        parser.error("give --labels-file or set EMOSIGN_LABELS")

    from emosign import cues
    from emosign.labels import read_labels

    clips = read_labels(args.labels_file).clips
    ordinary = "The signer raises the eyebrows and smiles, with quick signing and a head nod. " * 4
    runaway = ("the signer raises eyebrows and smiles, no quick head nod " * 21_000)[:1_200_000]
    print(f"{len(clips)} clips; words scored per explanation: {cues.MAX_EXPLANATION_TOKENS}")
    print(f"{'explanations':<46}{'wall s':>8}{'CPU s':>8}")
    for name, first in (("200 ordinary (60 words)", ordinary),
                        (f"199 ordinary + 1 of {len(runaway) / 1e6:.1f} MB", runaway)):
        explanations = [first] + [ordinary] * (len(clips) - 1)
        wall, cpu = time.perf_counter(), time.process_time()
        cues.grounding_scores(explanations, clips)
        cues.chance_scores(explanations, clips)
        print(f"  {name:<44}{time.perf_counter() - wall:>8.2f}{time.process_time() - cpu:>8.2f}")


if __name__ == "__main__":
    main()
