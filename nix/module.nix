# SPDX-License-Identifier: MIT
# NixOS module: services.first-boot-automation runs first-boot-agent at the first boot of a
# node installed from the gold image.
#
#   imports = [ ./nix/module.nix ];
#   services.first-boot-automation.enable = true;
#
# Which configuration the agent reads (its --config), first that applies:
#   - configFile, a file kept outside the Nix store (the agent refuses a configuration that
#     group or others can read, and every store path is world-readable);
#   - /etc/first-boot-agent/cluster-config.json, generated from settings, when settings
#     carries the node's identity (node_id, or a provisioning section);
#   - /etc/nixos/secrets/cluster-config.json, the file the provisioning copies onto the node
#     (nixos-anywhere), as the older module did: "enable = true" alone reads it.
# enableChainfire, enableFlareDB, enableIAM, enableHealthCheck, chainfirePort, flaredbPort and
# metricsTextfileDir (null: the file decides) and a settings without identity do not need the module to read that
# file: they go into the drop-in fragment /etc/first-boot-agent/cluster-config.d/50-nixos.json
# (mode 0600), which the agent merges over whichever file it reads (RFC 7396 merge patch; see
# docs/configuration.md). Generated files are copied out of the store with mode 0600, but their
# text is also in the world-readable store: settings must hold no secret, and a Nix path in
# settings (which would be copied into the store) is refused; secrets stay in the files the
# configuration names (tls.node_key_path, iam.secrets_file), as strings outside the store.
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
  provisionedPath = "/etc/nixos/secrets/cluster-config.json";
  generatedPath = "/etc/first-boot-agent/cluster-config.json";
  dropinPath = "/etc/first-boot-agent/cluster-config.d/50-nixos.json";
  catalogName = "first-boot-agent.catalog";
  # The seed's unit names, for runbooks (systemctl status|restart, journalctl -u).
  seedUnits = [
    "chainfire-cluster-join.service"
    "flaredb-cluster-join.service"
    "iam-initial-setup.service"
    "cluster-health-check.service"
  ];

  # What the enable*/port options mean in the configuration; null leaves the file's value.
  overrides = [
    {
      option = "enableChainfire";
      path = [ "services" "chainfire" "enabled" ];
      value = cfg.enableChainfire;
    }
    {
      option = "enableFlareDB";
      path = [ "services" "flaredb" "enabled" ];
      value = cfg.enableFlareDB;
    }
    {
      option = "enableIAM";
      path = [ "services" "iam" "enabled" ];
      value = cfg.enableIAM;
    }
    {
      option = "enableHealthCheck";
      path = [ "health_check" "enabled" ];
      value = cfg.enableHealthCheck;
    }
    {
      option = "chainfirePort";
      path = [ "services" "chainfire" "api_port" ];
      value = cfg.chainfirePort;
    }
    {
      option = "flaredbPort";
      path = [ "services" "flaredb" "api_port" ];
      value = cfg.flaredbPort;
    }
    {
      option = "metricsTextfileDir";
      path = [ "metrics" "textfile_dir" ];
      value = cfg.metricsTextfileDir;
    }
  ];
  setOverrides = builtins.filter (o: o.value != null) overrides;

  showPath = path: lib.concatStringsSep "." path;

  # settings with every option that is set applied.
  effectiveSettings = lib.foldl' (
    acc: o: lib.recursiveUpdate acc (lib.setAttrByPath o.path o.value)
  ) cfg.settings setOverrides;

  # settings is the whole configuration when it says who the node is; otherwise it is merged
  # over the file that does.
  identityKeys = [ "node_id" "node_role" "bootstrap" "cluster_name" "raft_addr" ];
  settingsHasIdentity = cfg.settings ? node_id || cfg.settings ? provisioning;
  generated = cfg.configFile == null && settingsHasIdentity;
  configPath =
    if cfg.configFile != null then toString cfg.configFile
    else if generated then generatedPath
    else provisionedPath;
  dropin = if generated then { } else effectiveSettings;

  # Every Nix path value in v ("settings.tls.node_key_path"): builtins.toJSON would copy the
  # file into the world-readable store.
  nixPaths =
    prefix: v:
    if builtins.isPath v then
      [ prefix ]
    else if builtins.isAttrs v then
      builtins.concatLists (map (n: nixPaths "${prefix}.${n}" v.${n}) (builtins.attrNames v))
    else if builtins.isList v then
      builtins.concatLists (
        builtins.genList (i: nixPaths "${prefix}[${toString i}]" (builtins.elemAt v i)) (builtins.length v)
      )
    else
      [ ];
  # The settings that name secret files must not name a file in the store either.
  secretKeys = [
    [ "tls" "node_key_path" ]
    [ "iam" "secrets_file" ]
    [ "iam" "token_file" ]
  ];
  inStore = v: builtins.isString v && lib.hasPrefix builtins.storeDir v;
  storeSecrets = builtins.filter (
    k: lib.hasAttrByPath k cfg.settings && inStore (lib.getAttrFromPath k cfg.settings)
  ) secretKeys;

  toJSONFile = name: value: pkgs.writeText name (builtins.toJSON value);

  agent = "${cfg.package}/bin/first-boot-agent --config ${configPath}";
  # The units' extra writable directory for metricsTextfileDir ("-": the unit starts without it).
  metricsWritable = mkIf (cfg.metricsTextfileDir != null) [ "-${toString cfg.metricsTextfileDir}" ];
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
      type = types.nullOr (types.either types.str types.path);
      default = null;
      example = "/etc/nixos/secrets/cluster-config.json";
      description = ''
        Path of a cluster-config.json kept outside the Nix store (mode 0600, owned by root),
        as a string: a Nix path is refused, since the file would be copied into the
        world-readable store. When null: the file generated from {option}`settings` if that
        holds the node's identity (`node_id` or `provisioning`), else
        /etc/nixos/secrets/cluster-config.json, the file the provisioning copies onto the
        node. {option}`settings` and the options below are merged over the file as a drop-in
        fragment (/etc/first-boot-agent/cluster-config.d/50-nixos.json).
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
        The agent's configuration (cluster-config.json keys, see first-boot-agent(8)). With
        the node's identity (`node_id`, or a `provisioning` section) and no
        {option}`configFile`, it is the whole configuration, written to
        /etc/first-boot-agent/cluster-config.json (mode 0600); otherwise it is merged over
        the configuration file as a drop-in fragment. Either way its text is also in the
        world-readable Nix store: keep secrets in the files it names, as strings outside the
        store. Nix path values are refused.
      '';
    };

    enableChainfire = mkOption {
      type = types.nullOr types.bool;
      default = null;
      example = false;
      description = "Wait for and join the chainfire cluster (services.chainfire.enabled); null: as the configuration says (default true).";
    };

    enableFlareDB = mkOption {
      type = types.nullOr types.bool;
      default = null;
      example = false;
      description = "Wait for and join the FlareDB cluster (services.flaredb.enabled); null: as the configuration says (default true).";
    };

    enableIAM = mkOption {
      type = types.nullOr types.bool;
      default = null;
      example = false;
      description = "Wait for IAM and create its initial administrator (services.iam.enabled); null: as the configuration says (default true).";
    };

    enableHealthCheck = mkOption {
      type = types.nullOr types.bool;
      default = null;
      example = false;
      description = "Check the cluster and report at the end of first boot (health_check.enabled); null: as the configuration says (default true).";
    };

    chainfirePort = mkOption {
      type = types.nullOr types.port;
      default = null;
      example = 2379;
      description = "API port of chainfire (services.chainfire.api_port); null: as the configuration says (default 2379).";
    };

    flaredbPort = mkOption {
      type = types.nullOr types.port;
      default = null;
      example = 2479;
      description = "API port of FlareDB (services.flaredb.api_port); null: as the configuration says (default 2479).";
    };

    metricsTextfileDir = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "/var/lib/node-exporter-textfile";
      description = ''
        Where the agent writes its node_exporter textfile metrics (metrics.textfile_dir;
        docs/metrics.md): the directory given to node_exporter as
        --collector.textfile.directory, e.g. through
        services.prometheus.exporters.node.extraFlags. The module creates it (root, 0755)
        and makes it writable for the agent's units. null: as the configuration says (default
        /var/lib/prometheus/node-exporter, Debian's; skipped when it does not exist).
      '';
    };
  };

  config = mkIf cfg.enable {
    assertions =
      [
        {
          assertion = cfg.configFile == null || !builtins.isPath cfg.configFile;
          message = "services.first-boot-automation.configFile is a Nix path (${toString cfg.configFile}): it would be copied into the world-readable Nix store, and the agent refuses a configuration others can read. Write it as a string naming a file outside the store, e.g. \"/etc/nixos/secrets/cluster-config.json\".";
        }
        {
          assertion = cfg.configFile == null || builtins.isPath cfg.configFile || (lib.hasPrefix "/" cfg.configFile && !lib.hasPrefix builtins.storeDir cfg.configFile);
          message = "services.first-boot-automation.configFile must be an absolute path outside the Nix store (the agent refuses a world-readable configuration); use settings to generate one instead.";
        }
        {
          assertion = !generated || cfg.settings ? provisioning || builtins.all (k: cfg.settings ? ${k}) identityKeys;
          message = "services.first-boot-automation.settings has node_id, so it is the node's whole configuration, but it lacks ${lib.concatStringsSep ", " (builtins.filter (k: !(cfg.settings ? ${k})) identityKeys)}: the agent would refuse it at boot (exit 3). Add them, or leave node_id out of settings so that it is merged over the provisioned ${provisionedPath}.";
        }
        {
          assertion = cfg.metricsTextfileDir == null || (lib.hasPrefix "/" cfg.metricsTextfileDir && !lib.hasPrefix builtins.storeDir cfg.metricsTextfileDir);
          message = "services.first-boot-automation.metricsTextfileDir must be an absolute path outside the Nix store (the agent writes there), e.g. \"/var/lib/node-exporter-textfile\".";
        }
        {
          assertion = (effectiveSettings.state_dir or stateDir) == stateDir;
          message = "services.first-boot-automation.settings.state_dir must be ${stateDir}: the unit's writable directory is fixed there.";
        }
      ]
      ++ map (p: {
        assertion = false;
        message = "services.first-boot-automation.${p} is a Nix path: builtins.toJSON would copy that file into the world-readable Nix store. Write it as a string naming a file outside the store (e.g. \"/etc/nixos/secrets/node04.key\") and copy the file there with the provisioning, as the other secrets are.";
      }) (nixPaths "settings" cfg.settings)
      ++ map (k: {
        assertion = false;
        message = "services.first-boot-automation.settings.${showPath k} names a file in the Nix store (${lib.getAttrFromPath k cfg.settings}), which every user can read: a secret belongs outside the store, e.g. in /etc/nixos/secrets/.";
      }) storeSecrets
      ++ map (o: {
        assertion = o.value == null || !(lib.hasAttrByPath o.path cfg.settings) || lib.getAttrFromPath o.path cfg.settings == o.value;
        message = "services.first-boot-automation: settings.${showPath o.path} contradicts ${o.option} = ${builtins.toJSON o.value}; set only one of them.";
      }) overrides;

    warnings = lib.optional (cfg.configFile == null && !generated && cfg.settings != { }) "services.first-boot-automation.settings has no node_id (nor a provisioning section), so the node's identity must come from ${provisionedPath}, which the provisioning copies onto the node; settings is merged over it as a drop-in. Set configFile to read another file.";

    environment.systemPackages = [ cfg.package ];

    # The package's units (first-boot-agent.service, first-boot-agent-flash.service,
    # first-boot-agent-failure.service) and its tmpfiles.d entry for the state directory.
    systemd.packages = [ cfg.package ];
    systemd.tmpfiles.packages = [ cfg.package ];

    # Copies (mode 0600, root), not links into the world-readable store: the agent refuses a
    # configuration others can read.
    environment.etc."first-boot-agent/cluster-config.json" = mkIf generated {
      source = toJSONFile "cluster-config.json" effectiveSettings;
      mode = "0600";
    };
    environment.etc."first-boot-agent/cluster-config.d/50-nixos.json" = mkIf (dropin != { }) {
      source = toJSONFile "50-nixos.json" dropin;
      mode = "0600";
    };

    # The journal catalog: nixpkgs' journalctl reads catalogs from its own package and from
    # /usr/local/lib/systemd/catalog/ only. A stable link there (to /etc, which activation
    # updates) and a unit that rebuilds the database whenever the package changes.
    environment.etc."first-boot-agent/${catalogName}".source = "${cfg.package}/lib/systemd/catalog/${catalogName}";
    systemd.tmpfiles.rules = [
      "L+ /usr/local/lib/systemd/catalog/${catalogName} - - - - /etc/first-boot-agent/${catalogName}"
    ] ++ lib.optional (cfg.metricsTextfileDir != null) "d ${cfg.metricsTextfileDir} 0755 root root -";
    systemd.services.first-boot-agent-catalog = {
      description = "Add the first-boot-agent texts to the journal catalog";
      documentation = [ "man:first-boot-agent(8)" ];
      wantedBy = [ "multi-user.target" ];
      after = [ "systemd-tmpfiles-setup.service" ];
      before = [ "first-boot-agent.service" ];
      restartTriggers = [ cfg.package ];
      serviceConfig = {
        Type = "oneshot";
        RemainAfterExit = true;
        ExecStart = "${config.systemd.package}/bin/journalctl --update-catalog";
      };
    };

    # NixOS ignores [Install] of packaged units: pull the unit into the boot and give it the
    # older automation's names here. Once every step is done the agent exits at once.
    systemd.services.first-boot-agent = {
      wantedBy = [ "multi-user.target" ];
      aliases = seedUnits;
      # A switch never starts a join by itself; the next boot (or "systemctl restart
      # first-boot-agent") uses the new configuration.
      restartIfChanged = false;
      # Every other setting (Type=notify, hardening, restarts) comes from the packaged unit.
      serviceConfig.ExecStart = [
        ""
        "${agent} run"
      ];
      # The packaged unit makes only Debian's node_exporter directory writable.
      serviceConfig.ReadWritePaths = metricsWritable;
    };

    # The installer's unit: not pulled in here (an installer image adds
    # systemd.services.first-boot-agent-flash.wantedBy = [ "multi-user.target" ]), but it
    # reads the same configuration.
    systemd.services.first-boot-agent-flash.serviceConfig.ExecStart = [
      ""
      "${agent} flash"
    ];
    systemd.services.first-boot-agent-flash.serviceConfig.ReadWritePaths = metricsWritable;
    systemd.services.first-boot-agent-failure.serviceConfig.ExecStart = [
      ""
      "${agent} status"
    ];
  };
}
