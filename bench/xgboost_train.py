"""Trains XGBoost (Debian's python3-xgboost, 1.7) on a matrix in bench/training-matrix.ts's layout.

    /usr/bin/python3 bench/xgboost_train.py MATRIX_DIR PARAMETERS_JSON ROUNDS THREADS [--model-out FILE] [--probabilities-out FILE]

Rows [0, trainRows) of MATRIX_DIR train; with --probabilities-out the other rows (held out) are
predicted and written as float32 [rows, classes]. With --model-out the booster is saved (the format
follows the name: .json or .ubj). Prints one JSON line: the XGBoost version, and the wall and CPU
seconds of `xgb.train` alone (it builds its quantile sketch and bin index inside; reading the files
and building the DMatrix are not counted). bench/xgboost.ts runs it for `npm run bench:train` and for
the FastAPI baseline of `npm run bench:serve`.
"""
import argparse
import json
import time

import numpy as np
import xgboost as xgb


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("matrix")
    parser.add_argument("parameters", help="XGBoost parameters as a JSON object")
    parser.add_argument("rounds", type=int)
    parser.add_argument("threads", type=int)
    parser.add_argument("--model-out")
    parser.add_argument("--probabilities-out")
    arguments = parser.parse_args()

    with open(f"{arguments.matrix}/meta.json", encoding="utf-8") as file:
        meta = json.load(file)
    rows, columns = meta["rows"], meta["columns"]
    train_rows = meta.get("trainRows", int(rows * 0.8))
    values = np.fromfile(f"{arguments.matrix}/values.f32", dtype="<f4").reshape(rows, columns)
    labels = np.fromfile(f"{arguments.matrix}/labels.i32", dtype="<i4")
    train = xgb.DMatrix(values[:train_rows], label=labels[:train_rows], nthread=arguments.threads)

    started, cpu_started = time.perf_counter(), time.process_time()
    booster = xgb.train(json.loads(arguments.parameters), train, num_boost_round=arguments.rounds)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started

    if arguments.model_out:
        booster.save_model(arguments.model_out)
    if arguments.probabilities_out:
        held_out = xgb.DMatrix(values[train_rows:], nthread=arguments.threads)
        booster.predict(held_out).astype("<f4").tofile(arguments.probabilities_out)
    print(json.dumps({"version": xgb.__version__, "seconds": seconds, "cpuSeconds": cpu_seconds}))


if __name__ == "__main__":
    main()
