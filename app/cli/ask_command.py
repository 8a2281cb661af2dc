"""`appliance ask QUESTION --tenant T`: the answer streams to the terminal, then sources."""

import argparse
import sys

from app.cli.context import CliError, open_from
from app.runtime import build_answering


def ask(args: argparse.Namespace) -> int:
    question = " ".join(args.question).strip()
    if not question:
        raise CliError("the question is empty")
    services = open_from(args)
    try:
        tenant = services.system.find_tenant(args.tenant)
        answerer = build_answering(services).answerer
        if answerer is None:
            raise CliError("no language model is configured or installed")
        no_answer = False
        for event in answerer.stream(tenant.id, question, k=args.k):
            if event["type"] == "token":
                sys.stdout.write(event["text"])
                sys.stdout.flush()
            elif event["type"] == "citations":
                sys.stdout.write("\n")
                for cited in event["citations"]:
                    print(f"[{cited['number']}] {cited['title']}, page {cited['page']}")
            elif event["type"] == "done":
                no_answer = bool(event["no_answer"])
    finally:
        services.close()
    return 3 if no_answer else 0
