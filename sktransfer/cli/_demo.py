"""``sktransfer demo``: the whole chain on built-in synthetic data."""


def register(subparsers):
    """Add the ``demo`` verb to ``subparsers``."""
    parser = subparsers.add_parser(
        "demo",
        help="run the whole chain on built-in synthetic data",
        description="Run the sktransfer chain on built-in synthetic data.",
    )
    parser.set_defaults(func=run)
    return parser


def run(args):
    """Run the demo."""
    from sktransfer import __version__

    print(f"sktransfer {__version__}")
    return 0
