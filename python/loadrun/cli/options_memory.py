"""Memory options (spec sections 7 and 9): the static memory plan and the
plans a network keeps.

--disable-mem-opt         every tensor its own arena bytes (no reuse, no views,
                          no in-place writes)
--get-static-mem-info DIR graph.json after compile; StaticMemoryInfo.json and
                          memory.svg (the plan as a picture) after the first run.
                          DIR is any path, created if missing (the reference's
                          character rule and move under the cwd are a quirk)
--max-plans N             loadrun: plans kept for distinct input shapes (LRU)
"""
from loadrun.cli.argv import UsageError


def add_arguments(parser):
    g = parser.add_argument_group("memory")
    g.add_argument("--disable-mem-opt", action="store_true",
                   help="give every tensor its own bytes: no memory reuse, views or in-place writes")
    g.add_argument("--get-static-mem-info", default="", metavar="DIR",
                   help="write graph.json, StaticMemoryInfo.json and memory.svg (the memory plan) into DIR")
    g.add_argument("--max-plans", type=int, default=None, metavar="N",
                   help="compiled plans kept for distinct input shapes (default 8, least recently used dropped)")


def apply(args, opts):
    if args.max_plans is not None and args.max_plans < 1:
        raise UsageError(f"--max-plans must be >= 1, got {args.max_plans}")
    opts.disable_mem_opt = args.disable_mem_opt
    opts.static_mem_info = args.get_static_mem_info
    opts.max_plans = args.max_plans


def network_kwargs(opts):
    """Keyword arguments of loadrun.Network() from these options."""
    return {"disable_mem_opt": opts.disable_mem_opt, "max_plans": opts.max_plans}


def graph_description(net):
    """graph.json's content: the comp seq's steps with their algorithms and layouts."""
    return {"oprs": [{"id": i, "name": s[0], "algo": s[1], "inputs": list(s[2]), "outputs": list(s[3]),
                      "workspace": s[4]} for i, s in enumerate(net.steps())]}


def write_static_mem_info(net, out_dir, after_run):
    """Writes graph.json (always) and, after a run, the plan's files."""
    from loadrun.dumps import static_mem_info as smi

    if not after_run:
        smi.write_graph_json(out_dir, graph_description(net))
        return
    m = net.memory_info()
    chunks = [smi.chunk_from_request(i, name, nbytes, first, last, offset)
              for i, (name, nbytes, first, last, offset, _buf) in enumerate(m["tensors"])]
    weights = m["weight_bytes"] - m["freed_weight_bytes"] + m["prepared_weight_bytes"]
    if weights:
        chunks.append({"id": len(chunks), "name": "weights", "type": smi.WEIGHT, "time_begin": 0,
                       "time_end": len(m["steps"]), "addr_begin": 0, "addr_end": weights,
                       "overwrite_dest_id": None})
    oprs = [{"id": i, "name": name} for i, name in enumerate(m["steps"])]
    smi.write_static_mem_info(out_dir, chunks, oprs, graph_description(net), arena_bytes=m["arena_bytes"])


def memory_rows(net):
    """--model-info lines about memory: (label, bytes)."""
    m = net.memory_info()
    kept = m["weight_bytes"] - m["freed_weight_bytes"] + m["prepared_weight_bytes"]
    return [("weights as loaded", m["weight_bytes"]),
            ("weights after preprocessing (kept + prepared)", kept),
            ("activation arena (planned)", m["arena_bytes"]),
            ("lower bound (live at once)", m["lower_bound_bytes"]),
            ("no-reuse total", m["no_reuse_bytes"]), ("workspace", m["workspace_bytes"])]
