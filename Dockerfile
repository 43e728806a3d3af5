# One image per queue, each from its own lock file (requirements/<set>.txt,
# exact versions with sha256 hashes, written by scripts/lock.sh):
#
#   docker build --target cpu-vision -t ai-worker-cpu-vision .   # OMR, OCR, segmentation, ... (+ the ai.job dispatcher)
#   docker build --target gpu-embed  -t ai-worker-gpu-embed  .   # embeddings (torch CPU build)
#   docker build --target llm        -t ai-worker-llm        .   # problem generation
#   docker build --target flower     -t ai-worker-flower     .   # the dashboard
#
# docker-compose.yml builds each service from its target.
FROM python:3.11-slim-bookworm AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY requirements/ requirements/
# setuptools and wheel build the project itself (pip install --no-build-isolation)
RUN pip install --require-hashes -r requirements/tools.txt \
    && useradd --system --uid 10001 worker

# The project's own files, the same in every image.
FROM scratch AS source
COPY pyproject.toml README.md celeryconfig.py flowerconfig.py /src/
COPY aicore /src/aicore
COPY ai_tasks /src/ai_tasks
COPY omr /src/omr
COPY vision /src/vision
COPY nlp /src/nlp

FROM base AS cpu-vision
# OCR engine with its Korean data, and the fonts sheets and wrong-answer notes are set in
RUN apt-get update \
    && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-kor fonts-nanum fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN pip install --require-hashes -r requirements/vision.txt
COPY --from=source /src /app
RUN pip install --no-deps --no-build-isolation /app
USER worker
CMD ["celery", "-A", "ai_tasks", "worker", "-Q", "cpu-vision", "-n", "cpu-vision@%h", "--loglevel", "INFO"]

FROM base AS gpu-embed
# torch is locked as its CPU build (torch==2.13.0+cpu): PyTorch's CPU wheel
# index serves it; PyPI's torch of that version is a CUDA build and would not
# match the lock's hash.
RUN pip install --require-hashes --find-links https://download.pytorch.org/whl/cpu/torch \
        -r requirements/embed.txt
COPY --from=source /src /app
RUN pip install --no-deps --no-build-isolation /app
USER worker
CMD ["celery", "-A", "ai_tasks", "worker", "-Q", "gpu-embed", "-n", "gpu-embed@%h", "--concurrency", "1", "--loglevel", "INFO"]

FROM base AS llm
RUN pip install --require-hashes -r requirements/llm.txt
COPY --from=source /src /app
RUN pip install --no-deps --no-build-isolation /app
USER worker
CMD ["celery", "-A", "ai_tasks", "worker", "-Q", "llm", "-n", "llm@%h", "--pool", "threads", "--concurrency", "16", "--loglevel", "INFO"]

FROM base AS flower
RUN pip install --require-hashes -r requirements/ops.txt
COPY --from=source /src /app
RUN pip install --no-deps --no-build-isolation /app
USER worker
EXPOSE 5555
# refuses to start without FLOWER_USER/FLOWER_PASSWORD; FLOWER_ADDRESS=0.0.0.0 inside a container
CMD ["python", "-m", "ai_tasks.flower"]
