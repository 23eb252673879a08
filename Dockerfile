# iwlab image: API, dashboard and worker (the command picks which).
#   docker build -t iwlab:cpu .                               # CPU torch
#   docker build -t iwlab:gpu --build-arg TORCH_VARIANT=cu128 .  # CUDA torch for workers
FROM python:3.11-slim

ARG TORCH_VERSION=2.13.0
# A wheel index under https://download.pytorch.org/whl/: cpu, cu126, cu128, ...
ARG TORCH_VARIANT=cpu

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    IWLAB_HOME=/data

WORKDIR /app

# torch first, from the variant's index, so `pip install .` finds torch>=2.4 satisfied and
# never pulls the default (CUDA) build for a CPU image. Its own layer: cached across code edits.
RUN pip install --index-url "https://download.pytorch.org/whl/${TORCH_VARIANT}" "torch==${TORCH_VERSION}"

COPY pyproject.toml README.md ./
COPY backend ./backend
COPY worker ./worker
COPY frontend ./frontend
RUN pip install . \
 && useradd --create-home --uid 1000 iwlab \
 && mkdir -p /data && chown iwlab:iwlab /data

USER iwlab
VOLUME ["/data"]
EXPOSE 8000 8050
CMD ["iwlab", "api", "--host", "0.0.0.0", "--port", "8000"]
