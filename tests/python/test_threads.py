# run() releases the GIL and one session may be run from several Python
# threads at once (kiln::Session::run is thread-safe): 8 threads, each with its
# own inputs, get exactly what one thread gets.
import threading

import numpy as np

import kiln


def test_eight_threads_on_one_session_equal_one_thread(style_model):
    opts = kiln.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.add_free_dimension_override_by_name("height", 32)
    opts.add_free_dimension_override_by_name("width", 48)
    sess = kiln.InferenceSession(style_model, opts)
    rng = np.random.default_rng(3)
    inputs = [rng.uniform(0, 255, size=(1, 3, 32, 48)).astype(np.float32) for _ in range(8)]
    expected = [sess.run(None, {"input": x})[0].copy() for x in inputs]
    assert not np.array_equal(expected[0], expected[1])

    results = [[] for _ in range(8)]
    errors = []
    start = threading.Barrier(8)

    def worker(k):
        try:
            start.wait()
            for r in range(4):
                x = inputs[(k + r) % 8]
                results[k].append(((k + r) % 8, sess.run(["output"], {"input": x})[0]))
        except BaseException as e:  # reported below, with the thread
            errors.append((k, e))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for k in range(8):
        assert len(results[k]) == 4
        for which, out in results[k]:
            assert np.array_equal(out, expected[which]), f"thread {k}, input {which}"


def test_run_releases_the_gil(style_model):
    # While one thread runs a long model, another Python thread keeps running.
    opts = kiln.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.add_free_dimension_override_by_name("height", 256)
    opts.add_free_dimension_override_by_name("width", 256)
    sess = kiln.InferenceSession(style_model, opts)
    x = np.zeros((1, 3, 256, 256), np.float32)
    done = threading.Event()
    ticks = [0]

    def count():
        while not done.is_set():
            ticks[0] += 1

    counter = threading.Thread(target=count)
    counter.start()
    try:
        while ticks[0] == 0:
            pass
        before = ticks[0]
        sess.run(None, {"input": x})
        during = ticks[0] - before
    finally:
        done.set()
        counter.join()
    # Holding the GIL through the run, the counter could not have moved
    # between the two reads; released, it counts for the whole run (~100 ms).
    assert during > 1000, during
