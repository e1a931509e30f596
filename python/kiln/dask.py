"""kiln.dask: one model over many images on a dask.distributed cluster.

    from dask.distributed import Client
    import kiln.dask

    client = Client("tcp://scheduler:8786")          # or kiln.dask.local_client(workers=2)
    result = kiln.dask.process_images(client, "photos/", "style.onnx", range_="0,255")
    print(result.outputs, result.errors)

Each worker builds one kiln session when the work arrives (a WorkerPlugin, so
the model's bytes travel with it: workers need kiln, not the model file) and
reuses it for every image it gets. Each session runs with
max(1, cores of its host // Dask threads on that host) intra-op threads, so
Dask's threads times kiln's never exceed a host's cores. Images are read and
written with kiln's own codecs (kiln.read_image / kiln.write_image: PNG, JPEG,
BMP); outputs go next to the inputs (or into out_dir), or come back as arrays
with return_arrays=True. Progress is Dask's own progress bar.

Image <-> tensor follows `kiln run --image`: element = (range(byte) - mean) / std,
NCHW or NHWC read from the model's input shape, the first output turned back
into an image the inverse way.
"""

import collections
import hashlib
import os

import numpy as np

import kiln

try:
    from distributed import WorkerPlugin, get_worker
except ImportError as e:  # pragma: no cover - python3-distributed is a dependency
    raise ImportError("kiln.dask needs dask.distributed (Debian: python3-distributed)") from e

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")

Result = collections.namedtuple("Result", ["outputs", "errors"])
Result.__doc__ = """outputs: one entry per input, in order (output path, or array with return_arrays;
None when that image failed); errors: {input path: kiln's message} for the images that failed."""

_RANGES = {"0,1": (1 / 255.0, 0.0), "-1,1": (1 / 127.5, -1.0), "0,255": (1.0, 0.0)}


def list_images(images):
    """A folder (its image files, sorted; not recursive) or a list of paths -> a list of paths."""
    if isinstance(images, (str, os.PathLike)) and os.path.isdir(images):
        folder = os.fspath(images)
        return [os.path.join(folder, f) for f in sorted(os.listdir(folder)) if f.lower().endswith(IMAGE_EXTENSIONS)]
    if isinstance(images, (str, os.PathLike)):
        return [os.fspath(images)]
    return [os.fspath(p) for p in images]


class ImageCodec:
    """How a model wants its image and how its first output becomes one (see the module docstring)."""

    def __init__(self, range_="0,1", mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0), layout=None):
        if range_ not in _RANGES:
            raise kiln.Error(f"range '{range_}' is not one of {', '.join(_RANGES)}")
        if layout not in (None, "nchw", "nhwc"):
            raise kiln.Error(f"layout '{layout}' is not nchw or nhwc")
        self.range_, self.layout = range_, layout
        self.mean = np.asarray(mean, np.float32).reshape(3)
        self.std = np.asarray(std, np.float32).reshape(3)

    def layout_of(self, shape):
        if self.layout:
            return self.layout
        if len(shape) == 4 and shape[1] == 3:
            return "nchw"
        if len(shape) == 4 and shape[3] == 3:
            return "nhwc"
        raise kiln.Error(f"cannot tell the layout of shape {list(shape)}: pass layout='nchw' or 'nhwc'")

    def to_tensor(self, pixels, layout):
        scale, offset = _RANGES[self.range_]
        x = (pixels.astype(np.float32) * np.float32(scale) + np.float32(offset) - self.mean) / self.std
        x = x[np.newaxis]
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2) if layout == "nchw" else x)

    def to_image(self, tensor):
        t = np.asarray(tensor, np.float32)
        layout = self.layout_of(t.shape)
        hwc = t[0].transpose(1, 2, 0) if layout == "nchw" else t[0]
        scale, offset = _RANGES[self.range_]
        value = ((hwc * self.std + self.mean) - np.float32(offset)) / np.float32(scale)
        value = np.nan_to_num(value, nan=0.0)
        return np.ascontiguousarray(np.clip(np.rint(value), 0, 255).astype(np.uint8))


def _inputs(images, suffix):
    """list_images, leaving out a folder's files kiln wrote there earlier (stem ending in `suffix`)."""
    found = list_images(images)
    if isinstance(images, (str, os.PathLike)) and os.path.isdir(images) and suffix:
        found = [p for p in found if not os.path.splitext(os.path.basename(p))[0].endswith(suffix)]
    return found


def default_output_path(path, out_dir=None, suffix="_kiln", extension=".png"):
    stem = os.path.splitext(os.path.basename(path))[0]
    folder = out_dir if out_dir is not None else os.path.dirname(path)
    return os.path.join(folder, stem + suffix + extension)


def _session(model_bytes, threads, opt_level):
    opts = kiln.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.graph_optimization_level = opt_level
    return kiln.InferenceSession(model_bytes, opts)


def _process(session, path, out_path, codec, return_arrays):
    """One image through `session`: (output path or array, None) or (None, error message)."""
    try:
        pixels = kiln.read_image(path)
        arg = session.get_inputs()[0]
        layout = codec.layout_of(arg.shape)
        x = codec.to_tensor(pixels, layout)
        y = session.run(None, {arg.name: x})[0]
        if return_arrays:
            return y, None
        if os.path.abspath(out_path) == os.path.abspath(path):
            raise kiln.Error(f"'{out_path}' is the input image itself: kiln never writes over its input")
        kiln.write_image(out_path, codec.to_image(y))
        return out_path, None
    except kiln.Error as e:
        return None, str(e)


class KilnSessionPlugin(WorkerPlugin):
    """Builds the worker's kiln session once (setup) and keeps it for every task on that worker."""

    def __init__(self, name, model_bytes, threads_by_address, opt_level):
        self.name = name
        self.model_bytes = model_bytes
        self.threads_by_address = threads_by_address
        self.opt_level = opt_level
        self.session = None

    def setup(self, worker):
        threads = self.threads_by_address.get(worker.address, 1)
        self.session = _session(self.model_bytes, threads, self.opt_level)

    def teardown(self, worker):
        self.session = None


def _worker_task(plugin_name, path, out_path, codec, return_arrays):
    plugin = get_worker().plugins[plugin_name]
    return _process(plugin.session, path, out_path, codec, return_arrays)


def _worker_cores(dask_worker=None):
    return kiln._kiln.physical_core_count()


def session_threads_by_worker(client):
    """Per worker address: max(1, its host's physical cores // the Dask threads of all workers on that host)."""
    workers = client.scheduler_info()["workers"]
    cores = client.run(_worker_cores)
    dask_threads = collections.Counter()
    for info in workers.values():
        dask_threads[info["host"]] += info["nthreads"]
    return {addr: max(1, cores.get(addr, 1) // max(1, dask_threads[info["host"]])) for addr, info in workers.items()}


def local_client(workers=None, threads_per_worker=1, **kwargs):
    """A Client on a LocalCluster of worker processes with workers x threads_per_worker <= this machine's
    cores (default: as many one-thread workers as cores). kwargs go to LocalCluster."""
    from distributed import Client, LocalCluster
    cores = kiln._kiln.physical_core_count()
    if workers is None:
        workers = max(1, cores // threads_per_worker)
    if workers * threads_per_worker > cores:
        raise kiln.Error(f"{workers} workers x {threads_per_worker} threads is more than this machine's "
                         f"{cores} cores")
    kwargs.setdefault("processes", True)
    kwargs.setdefault("dashboard_address", ":0")  # a free port: several clusters may run at once
    cluster = LocalCluster(n_workers=workers, threads_per_worker=threads_per_worker, **kwargs)
    return Client(cluster)


def _prepare(images, model, out_dir, suffix, range_, mean, std, layout):
    """What both ways of processing need first: the input paths, the image codec, the model's bytes
    (`model` is a path or the bytes), and out_dir made."""
    paths = _inputs(images, suffix)
    codec = ImageCodec(range_, mean, std, layout)
    if isinstance(model, (bytes, bytearray)):
        model_bytes = bytes(model)
    else:
        with open(model, "rb") as f:
            model_bytes = f.read()
    if out_dir is not None:
        os.makedirs(out_dir, exist_ok=True)
    return paths, codec, model_bytes


def _result(paths, results):
    """A Result from (output, error) pairs in input order."""
    return Result([r for r, _ in results], {p: e for p, (_, e) in zip(paths, results) if e is not None})


def process_images(client, images, model, out_dir=None, suffix="_kiln", extension=".png", range_="0,1",
                   mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0), layout=None, return_arrays=False,
                   opt_level=kiln.GraphOptimizationLevel.ORT_ENABLE_ALL, progress=True, session_threads=None):
    """Runs `model` (a path or the model's bytes) on every image of `images` (a folder, whose files named
    *SUFFIX.* are taken for earlier outputs and left out, or a list of paths) over `client`'s cluster. Returns a Result (outputs in input order, errors by path); a broken image is
    reported there without stopping the others. session_threads: kiln's intra-op threads per worker
    (default: see session_threads_by_worker)."""
    paths, codec, model_bytes = _prepare(images, model, out_dir, suffix, range_, mean, std, layout)
    threads = session_threads_by_worker(client)
    if session_threads is not None:
        threads = {addr: int(session_threads) for addr in threads}
    digest = hashlib.sha256(model_bytes + repr((sorted(threads.items()), int(opt_level))).encode()).hexdigest()[:16]
    name = f"kiln-session-{digest}"
    registered = client.run(lambda dask_worker: name in dask_worker.plugins)
    if not registered or not all(registered.values()):
        client.register_worker_plugin(KilnSessionPlugin(name, model_bytes, threads, opt_level), name=name)

    out_paths = [default_output_path(p, out_dir, suffix, extension) for p in paths]
    futures = [client.submit(_worker_task, name, p, o, codec, return_arrays, pure=False)
               for p, o in zip(paths, out_paths)]
    if progress and futures:
        from distributed import progress as dask_progress
        dask_progress(futures)
    results = client.gather(futures)
    return _result(paths, results)


def process_images_locally(images, model, out_dir=None, suffix="_kiln", extension=".png", range_="0,1",
                           mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0), layout=None, return_arrays=False,
                           opt_level=kiln.GraphOptimizationLevel.ORT_ENABLE_ALL, session_threads=0):
    """The same work in this process with one session (session_threads 0: kiln's default), for
    comparison and for machines without a cluster."""
    paths, codec, model_bytes = _prepare(images, model, out_dir, suffix, range_, mean, std, layout)
    session = _session(model_bytes, session_threads, opt_level)
    results = [_process(session, p, default_output_path(p, out_dir, suffix, extension), codec, return_arrays)
               for p in paths]
    return _result(paths, results)
