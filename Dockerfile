# Hen Backup's container image: built with the official Swift 6 image, run on debian:bookworm-slim.
#
#   docker build -t hen-backup .                       # from a clone (the version comes from git describe)
#   docker build --build-arg HEN_VERSION=1.2.0 -t hen-backup .   # when the build context has no .git
#
# Where the runtime's base image and the binary come from are build arguments, nothing else: `make
# test-image` builds this same file with RUNTIME_BASE set to a Debian 12 base made locally (debootstrap)
# and BINARY_FROM=prebuilt (the host's `make release` tree), and every runtime step below runs unchanged.
# See docs/docker.md.

ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_BASE=debian:bookworm-slim
# build: compile in the Swift image (the default); prebuilt: take .build/dist/hen-backup from the context.
ARG BINARY_FROM=build

# ---- build: the release tree (bin/hen-backup with its resources, plugins/hen-plugin-borg and hen-plugin-rsync)
FROM ${SWIFT_IMAGE} AS build
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libcurl4-openssl-dev libsqlite3-dev pkg-config make git \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
ARG HEN_VERSION=
RUN HEN_VERSION="${HEN_VERSION}" make release SUDO= RUN_PACKAGES= \
    && mkdir -p /out && cp -R .build/dist/hen-backup/. /out/

# ---- prebuilt: the same tree, built on the host by `make release`
FROM scratch AS prebuilt
COPY .build/dist/hen-backup/ /out/

FROM ${BINARY_FROM} AS binary

# ---- runtime
FROM ${RUNTIME_BASE} AS runtime
ARG HEN_VERSION=
# Where the source is published and which commit this is, for the labels (nothing else reads them).
ARG HEN_SOURCE=
ARG HEN_REVISION=
LABEL org.opencontainers.image.title="Hen Backup" \
      org.opencontainers.image.description="A backup daemon that supervises restic (and borg and rsync through plugins): schedules, hooks, job records, an HTTP API and a web UI." \
      org.opencontainers.image.version="${HEN_VERSION}" \
      org.opencontainers.image.source="${HEN_SOURCE}" \
      org.opencontainers.image.revision="${HEN_REVISION}" \
      org.opencontainers.image.base.name="debian:bookworm-slim"
# restic (the engine), borgbackup and rsync (the engines of the plugins shipped in plugins/), openssh-client
# (borg's and rsync's remote repositories), libcurl (HTTP hooks), SQLite (job store), tzdata (schedules
# in local time), curl (the health check), tini (PID 1: hands SIGTERM to the daemon and reaps what hooks
# leave behind).
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        restic borgbackup rsync openssh-client ca-certificates tzdata libcurl4 libsqlite3-0 curl tini \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb /var/log/apt /var/log/dpkg.log \
        /var/cache/debconf/*-old /var/lib/dpkg/*-old \
    && groupadd --gid 10001 hen \
    && useradd --uid 10001 --gid hen --no-create-home --home-dir /var/lib/hen-backup --shell /usr/sbin/nologin hen \
    && install -d -o hen -g hen -m 0750 /var/lib/hen-backup \
    && install -d -m 0755 /etc/hen-backup /opt/hen-backup/plugins \
    && install -d -o hen -g hen -m 0750 /repository /restores
# bin/hen-backup and its resources; plugins/ (the driver plugins shipped with Hen, found by the daemon as
# bin/../plugins) lands in /opt/hen-backup/plugins.
COPY --from=binary /out/ /opt/hen-backup/
ENV PATH=/opt/hen-backup/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HEN_CONFIG=/etc/hen-backup/config.yml \
    HOME=/var/lib/hen-backup \
    HEN_HEALTH_URL=http://127.0.0.1:8420/api/v1/health
USER hen
WORKDIR /var/lib/hen-backup
VOLUME ["/var/lib/hen-backup"]
EXPOSE 8420
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD curl -fsS --max-time 8 -o /dev/null "$HEN_HEALTH_URL" || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "hen-backup"]
CMD ["daemon"]
