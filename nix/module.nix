# SPDX-License-Identifier: MIT
# NixOS module: services.first-boot-automation runs first-boot-agent at the first boot of a
# node installed from the gold image.
#
#   imports = [ ./nix/module.nix ];
#   services.first-boot-automation = {
#     enable = true;
#     settings = { node_id = "node04"; node_role = "worker"; bootstrap = false; ... };
#   };
#
# The configuration reaches the agent in one of two ways:
#   - configFile = "/etc/nixos/secrets/cluster-config.json": a file kept outside the Nix store
#     (the agent refuses a configuration that group or others can read, and every store path
#     is world-readable). The module does not read it, so enableChainfire, enableFlareDB,
#     enableIAM, enableHealthCheck, chainfirePort and flaredbPort cannot be applied to it:
#     the module refuses (an assertion) when any of them differs from its default, or when
#     settings is not empty. Put those values into the file instead.
#   - configFile = null (the default): settings, with those options merged in, is written as
#     JSON and installed as /etc/first-boot-agent/cluster-config.json, mode 0600. A value in
#     settings that contradicts one of those options is refused. The JSON is also in the
#     world-readable store: keep secrets out of settings; they belong in the files the
#     configuration names (iam.secrets_file, tls.node_key_path).
{
  config,
  lib,
  pkgs,
  ...
}:

let
  inherit (lib)
    mkEnableOption
    mkOption
    mkIf
    types
    literalExpression
    ;

  cfg = config.services.first-boot-automation;
  jsonFormat = pkgs.formats.json { };

  stateDir = "/var/lib/first-boot-automation";
  generatedPath = "/etc/first-boot-agent/cluster-config.json";
  configPath = if cfg.configFile != null then cfg.configFile else generatedPath;

  # What the enable*/port options mean in the configuration file, with their defaults.
  overrides = [
    {
      option = "enableChainfire";
      path = [ "services" "chainfire" "enabled" ];
      value = cfg.enableChainfire;
      default = true;
    }
    {
      option = "enableFlareDB";
      path = [ "services" "flaredb" "enabled" ];
      value = cfg.enableFlareDB;
      default = true;
    }
    {
      option = "enableIAM";
      path = [ "services" "iam" "enabled" ];
      value = cfg.enableIAM;
      default = true;
    }
    {
      option = "enableHealthCheck";
      path = [ "health_check" "enabled" ];
      value = cfg.enableHealthCheck;
      default = true;
    }
    {
      option = "chainfirePort";
      path = [ "services" "chainfire" "api_port" ];
      value = cfg.chainfirePort;
      default = 2379;
    }
    {
      option = "flaredbPort";
      path = [ "services" "flaredb" "api_port" ];
      value = cfg.flaredbPort;
      default = 2479;
    }
  ];

  showPath = path: lib.concatStringsSep "." path;

  # settings with every override applied.
  effectiveSettings = lib.foldl' (
    acc: o: lib.recursiveUpdate acc (lib.setAttrByPath o.path o.value)
  ) cfg.settings overrides;

  configJson = pkgs.writeText "cluster-config.json" (builtins.toJSON effectiveSettings);

  agent = "${cfg.package}/bin/first-boot-agent --config ${configPath}";
in
{
  options.services.first-boot-automation = {
    enable = mkEnableOption "first-boot-agent, which joins this node to its cluster services at first boot";

    package = mkOption {
      type = types.package;
      default = pkgs.callPackage ./package.nix { };
      defaultText = literalExpression "pkgs.callPackage ./nix/package.nix { }";
      description = "The first-boot-agent package to use.";
    };

    configFile = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "/etc/nixos/secrets/cluster-config.json";
      description = ''
        Path of a cluster-config.json kept outside the Nix store (mode 0600, owned by root).
        When null, the configuration is generated from {option}`settings` and the options
        below. When set, {option}`settings` must be empty and the enable/port options must
        keep their defaults: the module cannot merge them into a file it does not read.
      '';
    };

    settings = mkOption {
      type = jsonFormat.type;
      default = { };
      example = literalExpression ''
        {
          node_id = "node04";
          node_role = "worker";
          bootstrap = false;
          cluster_name = "prod";
          leader_url = "https://10.0.1.10:2379";
          raft_addr = "10.0.1.13:2380";
          initial_peers = [ "node01:2380" "node02:2380" "node03:2380" ];
          flaredb_peers = [ "node01:2480" "node02:2480" "node03:2480" ];
          tls = {
            enabled = true;
            ca_cert_path = "/etc/nixos/secrets/ca.crt";
          };
          iam.secrets_file = "/etc/nixos/secrets/iam-admin.json";
        }
      '';
      description = ''
        The agent's configuration (cluster-config.json), written to
        /etc/first-boot-agent/cluster-config.json with mode 0600 when {option}`configFile`
        is null. See first-boot-agent(8) for the keys. It is also stored world-readable in
        the Nix store: keep secrets in the files it names, never in it.
      '';
    };

    enableChainfire = mkOption {
      type = types.bool;
      default = true;
      description = "Wait for and join the chainfire cluster (services.chainfire.enabled).";
    };

    enableFlareDB = mkOption {
      type = types.bool;
      default = true;
      description = "Wait for and join the FlareDB cluster (services.flaredb.enabled).";
    };

    enableIAM = mkOption {
      type = types.bool;
      default = true;
      description = "Wait for IAM and create its initial administrator (services.iam.enabled).";
    };

    enableHealthCheck = mkOption {
      type = types.bool;
      default = true;
      description = "Check the cluster and report at the end of first boot (health_check.enabled).";
    };

    chainfirePort = mkOption {
      type = types.port;
      default = 2379;
      description = "API port of chainfire (services.chainfire.api_port).";
    };

    flaredbPort = mkOption {
      type = types.port;
      default = 2479;
      description = "API port of FlareDB (services.flaredb.api_port).";
    };
  };

  config = mkIf cfg.enable {
    assertions =
      [
        {
          assertion = cfg.configFile == null || (lib.hasPrefix "/" cfg.configFile && !lib.hasPrefix builtins.storeDir cfg.configFile);
          message = "services.first-boot-automation.configFile must be an absolute path outside the Nix store (the agent refuses a world-readable configuration); use settings to generate one instead.";
        }
        {
          assertion = cfg.configFile == null || cfg.settings == { };
          message = "services.first-boot-automation: set either configFile or settings, not both.";
        }
        {
          assertion = (effectiveSettings.state_dir or stateDir) == stateDir;
          message = "services.first-boot-automation.settings.state_dir must be ${stateDir}: the unit's done-marker condition and its writable directory are fixed there.";
        }
      ]
      ++ map (o: {
        assertion = cfg.configFile == null || o.value == o.default;
        message = "services.first-boot-automation.${o.option} cannot be applied to configFile (${toString cfg.configFile}), which the module does not read: set ${showPath o.path} in that file and leave ${o.option} at its default.";
      }) overrides
      ++ map (o: {
        assertion = !(lib.hasAttrByPath o.path cfg.settings) || lib.getAttrFromPath o.path cfg.settings == o.value;
        message = "services.first-boot-automation: settings.${showPath o.path} contradicts ${o.option} = ${builtins.toJSON o.value}; set only one of them.";
      }) overrides;

    environment.systemPackages = [ cfg.package ];

    # The package's units (first-boot-agent.service, first-boot-agent-flash.service,
    # first-boot-agent-failure.service) and its tmpfiles.d entry for the state directory.
    systemd.packages = [ cfg.package ];
    systemd.tmpfiles.packages = [ cfg.package ];

    environment.etc."first-boot-agent/cluster-config.json" = mkIf (cfg.configFile == null) {
      source = configJson;
      mode = "0600";
    };

    # Where "journalctl --update-catalog" looks; the database is rebuilt on activation, so
    # that "journalctl -x" explains the agent's records.
    environment.etc."systemd/catalog/first-boot-agent.catalog".source =
      "${cfg.package}/lib/systemd/catalog/first-boot-agent.catalog";
    system.activationScripts.first-boot-agent-catalog = {
      deps = [ "etc" ];
      text = "${config.systemd.package}/bin/journalctl --update-catalog || true";
    };

    # NixOS ignores [Install] of packaged units: pull the unit into the boot here. The
    # condition on the done marker keeps it from doing anything after the first boot.
    systemd.services.first-boot-agent = {
      wantedBy = [ "multi-user.target" ];
      # A switch never starts a join by itself; the next boot (or "systemctl restart
      # first-boot-agent") uses the new configuration.
      restartIfChanged = false;
      # Every other setting (Type=notify, hardening, restarts) comes from the packaged unit.
      serviceConfig.ExecStart = [
        ""
        "${agent} run"
      ];
    };

    # The installer's unit: not pulled in here (an installer image adds
    # systemd.services.first-boot-agent-flash.wantedBy = [ "multi-user.target" ]), but it
    # reads the same configuration.
    systemd.services.first-boot-agent-flash.serviceConfig.ExecStart = [
      ""
      "${agent} flash"
    ];
    systemd.services.first-boot-agent-failure.serviceConfig.ExecStart = [
      ""
      "${agent} status"
    ];
  };
}
