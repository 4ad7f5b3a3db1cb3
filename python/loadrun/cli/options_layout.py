"""Layout options (spec: "Layout"): the conv trunk converted at compile time to
a channel-blocked layout, inputs and outputs left NCHW.

--enable-nchw44      blocks of 4 channels (the ARM NEON layout; runs anywhere)
--enable-nchw88      blocks of 8 channels (the AVX layout; runs anywhere)

The GPU layouts (--enable-nchw4, -chwn4, -nchw32, -nchw64, -nhwcd4) are refused
(cli/not_supported.py). Each layout flag also enables conv-bias-nonlinearity
fusion, which loadrun does by default (--enable-fuse-conv-bias-nonlinearity is
implied either way).
Quirk of the reference: two layout flags apply none. loadrun applies one, the
last in the fixed order nchw44, nchw88, as for the device flags, and says so on
stderr.
"""
import sys

# (flag, attribute, layout name), in the fixed order: the last one given wins.
LAYOUT_FLAGS = [("--enable-nchw44", "enable_nchw44", "nchw44"),
                ("--enable-nchw88", "enable_nchw88", "nchw88")]


def add_arguments(parser):
    g = parser.add_argument_group("layout")
    g.add_argument("--enable-nchw44", action="store_true",
                   help="run the conv trunk in NCHW44 (channels in blocks of 4; the ARM layout)")
    g.add_argument("--enable-nchw88", action="store_true",
                   help="run the conv trunk in NCHW88 (channels in blocks of 8; the AVX layout)")


def apply(args, opts):
    given = [(flag, name) for flag, attr, name in LAYOUT_FLAGS if getattr(args, attr)]
    opts.layout = given[-1][1] if given else ""
    if len(given) > 1:
        print(f"warning: {', '.join(f for f, _ in given)}: only one layout conversion applies; "
              f"using {given[-1][0]}", file=sys.stderr)


def network_kwargs(opts):
    """Keyword arguments of loadrun.Network() from these options."""
    return {"layout": opts.layout or None}
