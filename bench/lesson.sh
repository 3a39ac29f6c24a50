#!/usr/bin/env bash
# How quickly a lesson answers a learner, through a pipe: a command inside a `try` step against
# the same command outside a lesson, `check` ("not yet"), and the solving command to "goal
# reached". Median of 5 rounds, each on its own embedded broker. Usage: bench/lesson.sh
source "$(dirname "$0")/common.sh"
python3 bench/lesson.py "$bin" 5
