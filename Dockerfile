# iwlab image: API, dashboard and worker (the command picks which).
#   docker build -t iwlab:cpu .                               # CPU torch
#   docker build -t iwlab:gpu --build-arg TORCH_VARIANT=cu128 .  # CUDA torch for workers
#   docker build -t iwlab:api --build-arg IWLAB_EXTRAS=postgres .  # the API alone: no torch
FROM python:3.11-slim

# A wheel index under https://download.pytorch.org/whl/: cpu, cu126, cu128, ...
ARG TORCH_VARIANT=cpu
# pyproject.toml's extras to install: `all` (API, dashboard and workers in one image), or a subset;
# torch comes only with those that train (all, worker, report).
ARG IWLAB_EXTRAS=all

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    IWLAB_HOME=/data

WORKDIR /app

# Every version comes from constraints.txt, torch's too (its one pin). torch first, from the
# variant's index, so `pip install` finds it satisfied and never pulls the default (CUDA) build
# for a CPU image. Its own layer: cached across code edits.
COPY constraints.txt ./
RUN case ",${IWLAB_EXTRAS}," in \
      *,all,*|*,worker,*|*,report,*) \
        pip install --index-url "https://download.pytorch.org/whl/${TORCH_VARIANT}" "$(grep -E '^torch==' constraints.txt)" ;; \
      *) echo "extras ${IWLAB_EXTRAS}: no torch" ;; \
    esac

COPY pyproject.toml README.md ./
COPY backend ./backend
COPY worker ./worker
COPY frontend ./frontend
RUN pip install -c constraints.txt ".[${IWLAB_EXTRAS}]" \
 && useradd --create-home --uid 1000 iwlab \
 && mkdir -p /data && chown iwlab:iwlab /data

USER iwlab
VOLUME ["/data"]
EXPOSE 8000 8050
CMD ["iwlab", "api", "--host", "0.0.0.0", "--port", "8000"]
