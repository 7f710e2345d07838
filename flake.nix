# SPDX-License-Identifier: MIT
# The package and the NixOS module as a flake:
#
#   inputs.first-boot-agent.url = "git+file:///src/first-boot-agent";   # or this tree's git URL
#   nixosConfigurations.NAME = nixpkgs.lib.nixosSystem {
#     modules = [ first-boot-agent.nixosModules.default { services.first-boot-automation.enable = true; } ];
#   };
#
# The module's `package` defaults to nix/package.nix built with the system's nixpkgs, so the
# module alone is enough; `packages.SYSTEM.default` builds the same for `nix build`.
# Verified here: this file parses (tests/pkg/nix-check.sh); the module and the package are
# evaluated against stand-ins for nixpkgs (see docs/packaging.md). Not verified: an evaluation
# or a build with a real nixpkgs.
{
  description = "first-boot-agent: turns a bare-metal node into a cluster member at first boot";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.05";

  outputs =
    { self, nixpkgs }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      packages = forAllSystems (pkgs: rec {
        first-boot-agent = pkgs.callPackage ./nix/package.nix { };
        default = first-boot-agent;
      });

      nixosModules = rec {
        first-boot-automation = import ./nix/module.nix;
        default = first-boot-automation;
      };
    };
}
