# One image for every Linli process (gateway, the services' web, worker and relay, and the
# one-shot key generator); docker-compose.yml and deploy/k8s pick the process by command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LINLI_VAR_DIR=/var/lib/linli

# A fixed numeric id, so Kubernetes' runAsNonRoot can verify it and volume ownership is
# the same in every container.
RUN groupadd --system --gid 10001 linli \
 && useradd --system --uid 10001 --gid linli --no-create-home --home-dir /app \
            --shell /usr/sbin/nologin linli

WORKDIR /app

# Runtime dependencies get a layer of their own (read from pyproject.toml, so the list is
# kept in one place): a code change then does not reinstall them. The `dev` extra is not
# installed.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

COPY linli/ linli/
COPY services/ services/
COPY gateway/ gateway/
COPY web/ web/
COPY devstack/ devstack/
COPY deploy/ deploy/
# Dependencies are already there; --no-deps keeps this step from touching them.
RUN pybabel compile -d web/translations -D messages \
 && pip install --no-deps . \
 && rm -rf build *.egg-info

# A named volume mounted here for the first time takes this directory's owner, which is
# what lets the non-root key generator write the keys into it (one volume per kind of key,
# so that each process mounts only what it needs). Keys are never baked in.
RUN mkdir -p /var/lib/linli/jwt-private /var/lib/linli/jwt-public /var/lib/linli/keys \
 && chown -R linli:linli /var/lib/linli

USER 10001:10001

EXPOSE 8000 8001 8002 8003 8004

CMD ["gunicorn", "-c", "deploy/gunicorn.conf.py", "gateway.app:create_app()"]
