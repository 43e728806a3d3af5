import subprocess
import sys


def test_omr_imports_without_celery_or_ai_tasks() -> None:
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('celery', 'kombu', 'ai_tasks'):\n"
        "            raise ImportError('blocked ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import omr, omr.grade, omr.batch, omr.overlay, omr.render_pdf\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
