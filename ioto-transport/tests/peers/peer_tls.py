"""`--tls CERT KEY` for the peers: a TLS 1.3-only server context (standard library ssl)."""

import ssl


def tls_context(argv):
    """The server TLS context for `--tls CERT KEY` in argv, or None (plain)."""
    if "--tls" not in argv:
        return None
    i = argv.index("--tls")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(argv[i + 1], argv[i + 2])
    return ctx
