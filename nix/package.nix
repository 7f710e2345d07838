# SPDX-License-Identifier: MIT
# first-boot-agent, built with meson from this source tree.
#
#   pkgs.callPackage ./nix/package.nix { }
{
  lib,
  stdenv,
  meson,
  ninja,
  pkg-config,
  systemd,
  curl,
  jansson,
  libyaml,
  util-linux,
  openssl,
  zstd,
  xz,
  zlib,
}:

stdenv.mkDerivation {
  pname = "first-boot-agent";
  version = "0.1.0";

  # The source tree without build directories, packaging and VCS data.
  src = lib.cleanSourceWith {
    src = ../.;
    filter =
      path: type:
      let
        base = baseNameOf path;
      in
      lib.cleanSourceFilter path type
      && !(type == "directory" && (lib.hasPrefix "build" base || base == "packaging"));
  };

  nativeBuildInputs = [
    meson
    ninja
    pkg-config
  ];

  buildInputs = [
    systemd # libsystemd, libudev
    curl
    jansson
    libyaml # the kubeconfig k3s writes, the config.yaml the agent writes for it
    util-linux # libblkid
    openssl # libcrypto
    zstd
    xz # liblzma
    zlib
  ];

  mesonFlags = [
    # NixOS keeps every program in bin/.
    "--sbindir=bin"
    # The units, tmpfiles.d entry and catalog go into the package, for systemd.packages.
    "-Dsystemdsystemunitdir=${placeholder "out"}/lib/systemd/system"
    # The test suite needs loopback servers, root, nspawn and QEMU: not in the sandbox.
    "-Dtests=false"
    "-Dslow_tests=false"
  ];

  meta = {
    description = "Joins a freshly installed node to its cluster services at first boot";
    longDescription = ''
      first-boot-agent runs once at the first boot of a node installed from a gold image:
      it waits for the local chainfire, flaredb and IAM services, joins the node to their
      Raft clusters through the leader's admin API, creates the initial IAM administrator
      and reports to the provisioning server. On an installer image it writes the gold
      image and the board firmware instead.
    '';
    license = lib.licenses.mit;
    platforms = lib.platforms.linux;
    mainProgram = "first-boot-agent";
  };
}
