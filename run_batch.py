"""Run or resume a leadgen batch: ``python run_batch.py configs/denver.yaml``.

The same as ``leadgen run``; see ``python run_batch.py --help``.
"""

from leadgen.cli import run_command

if __name__ == "__main__":
    run_command(prog_name="run_batch.py")
