# kiln.dask on a LocalCluster of 2 worker processes with 1 thread each: the
# images written equal a single-process run's, each worker built one session
# and reused it, and a broken image is reported without stopping the others.
import os
import time

import numpy as np
import pytest

import kiln

distributed = pytest.importorskip("distributed")
import kiln.dask  # noqa: E402  (after the importorskip)


def test_two_workers_equal_one_process(tmp_path, style_model):
    start = time.monotonic()
    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(11)
    for k in range(6):
        kiln.write_image(str(folder / f"img{k}.png"), rng.integers(0, 256, (40 + 4 * k, 56, 3), dtype=np.uint8))
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")

    local = kiln.dask.process_images_locally(folder, style_model, out_dir=tmp_path / "local", range_="0,255",
                                             session_threads=1)
    assert list(local.errors) == [str(folder / "broken.png")]

    env = {"PYTHONPATH": os.environ.get("KILN_PYTHON_DIR", "")}
    with kiln.dask.local_client(workers=2, threads_per_worker=1, env=env) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        result = kiln.dask.process_images(client, folder, style_model, out_dir=tmp_path / "dask", range_="0,255",
                                          progress=False)
        # One session per worker, built once: every worker holds the plugin, and
        # a second call reuses it (same name, so no new session).
        names = client.run(lambda dask_worker: sorted(n for n in dask_worker.plugins if n.startswith("kiln-")))
        assert len(names) == 2 and all(len(v) == 1 for v in names.values())
        ids = client.run(lambda dask_worker: id(dask_worker.plugins[names[dask_worker.address][0]].session))
        arrays = kiln.dask.process_images(client, folder, style_model, range_="0,255", return_arrays=True,
                                          progress=False)
        assert client.run(lambda dask_worker: id(dask_worker.plugins[names[dask_worker.address][0]].session)) == ids
        threads = kiln.dask.session_threads_by_worker(client)
        cores = kiln._kiln.physical_core_count()
        assert all(t == max(1, cores // 2) for t in threads.values())

    assert result.errors.keys() == local.errors.keys()
    assert "broken.png" in next(iter(result.errors.values()))
    written = [p for p in result.outputs if p is not None]
    assert len(written) == 6
    for mine, theirs in zip(result.outputs, local.outputs):
        if mine is None:
            assert theirs is None
            continue
        assert os.path.basename(mine) == os.path.basename(theirs)
        assert np.array_equal(kiln.read_image(mine), kiln.read_image(theirs)), mine
    local_arrays = kiln.dask.process_images_locally(folder, style_model, range_="0,255", return_arrays=True,
                                                    session_threads=1)
    assert arrays.errors.keys() == local_arrays.errors.keys()
    for mine, theirs in zip(arrays.outputs, local_arrays.outputs):
        assert (mine is None) == (theirs is None)
        if mine is not None:
            assert mine.shape[:2] == (1, 3) and np.array_equal(mine, theirs)
    # Outputs written next to the inputs are not taken as inputs the next time.
    again = kiln.dask.process_images_locally(folder, style_model, range_="0,255", session_threads=1)
    assert len(again.outputs) == 7 and all(p is None or p.endswith("_kiln.png") for p in again.outputs)
    again = kiln.dask.process_images_locally(folder, style_model, range_="0,255", session_threads=1)
    assert len(again.outputs) == 7
    assert time.monotonic() - start < 60
