#!/usr/bin/env bash
# A workshop on one shared broker: N learners (default 30) replay lesson 5 (consumer groups) at
# once against one `kafka-workshop broker`, each with --learner, while an instructor's session
# runs `class` over and over. Prints how many passed, the total time, the broker's peak RSS, and
# how soon `class` showed each learner done. Goals on a 2-core machine: N=60 all pass, `class`
# within 2 s of each learner's latest step, the broker under 300 MB. Usage: bench/workshop.sh [N]
source "$(dirname "$0")/common.sh"
python3 bench/workshop.py "$bin" "${1:-30}" 5 "$home"
