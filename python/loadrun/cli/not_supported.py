"""Flags of MegEngine's load_and_run that loadrun does not build yet.

THE one list: a later issue that builds a flag removes it here and adds it to
an option group module. Names use dashes; `_` spellings and `--noX` forms are
matched after normalisation. A refused flag is a usage error (exit code 2).
"""

NOT_SUPPORTED = frozenset(
    """
    --share-param-mem --lite --mdl --batch-size
    --fitting --dump-fitting-model --model-dump
    --packed-model-dump --pack-info-json --pack-cache --pack-info-cryption --pack-model-cryption
    --io-dump --io-dump-stdout --io-dump-stderr --bin-io-dump --bin-out-dump --copy-to-host
    --enable-nchw4 --enable-chwn4 --enable-nchw32 --enable-nchw64
    --enable-nhwcd4 --enable-nchw44-dot --layout-transform --layout-transform-dump
    --enable-ioc16
    --enable-fuse-conv-bias-nonlinearity --enable-fuse-conv-bias-with-z --enable-fuse-preprocess
    --fuse-grain --optimize-for-inference --enable-jit --tensorrt --tensorrt-cache
    --cuda
    --range --check-var-value --profile --profile-host
    --disable-assert-throw --wait-gdb
    --c-opr-lib --c-opr-init-interface --c-opr-lib-with-param
    --flagfile --fromenv --helpmatch
    """.split()
)


def not_supported_message(flag):
    return f"{flag} is not supported yet by this version of loadrun"
