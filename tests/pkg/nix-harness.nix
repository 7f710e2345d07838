# SPDX-License-Identifier: MIT
# Evaluates nix/module.nix and nix/package.nix without nixpkgs, which is not available
# offline: a small stand-in for the parts of lib, pkgs and the module system they use.
# Returns { checks = [ { name; ok; detail; } … ]; package = { … }; } for tests/pkg/nix-check.sh
# (which prints the checks as TAP) and tests/pkg/nix-package.sh (which installs the package's
# layout with meson and compares its inputs with meson.build).
#
# What this checks: the option names, types, defaults and descriptions; the seed's NixOS
# setups as evaluations (enable alone; configFile with the enable*/port options; settings):
# for each, the unit's command line, the configuration the agent will read (main file and
# drop-in fragment), and that no generated text names a store path; the refusals (Nix paths
# and store paths for secrets, an incomplete identity, contradictions) and the warning; the
# aliases, the catalog's path to journalctl and the unit overrides; the package's meson flags
# against meson_options.txt and its source filter.
# What it does not: the real nixpkgs lib and module system (merging, mkIf semantics beyond
# "drop when false", option type checking beyond the stand-in checks below), that the lib
# functions used exist under these names in a given nixpkgs, the NixOS systemd/etc modules
# that consume the result, and building the package.
let
  inherit (builtins)
    all
    any
    attrNames
    elem
    filter
    foldl'
    fromJSON
    hasAttr
    head
    isAttrs
    isBool
    isInt
    isList
    isString
    length
    mapAttrs
    match
    tail
    ;

  # ---- a stand-in lib ----
  lib = rec {
    types = {
      bool = { name = "bool"; check = isBool; };
      str = { name = "str"; check = isString; };
      port = { name = "port"; check = v: isInt v && v >= 0 && v <= 65535; };
      path = { name = "path"; check = v: builtins.isPath v || (isString v && builtins.substring 0 1 v == "/"); };
      either = a: b: { name = "${a.name} or ${b.name}"; check = v: a.check v || b.check v; };
      package = { name = "package"; check = v: isAttrs v && v ? outPath; };
      nullOr = t: { name = "nullOr ${t.name}"; check = v: v == null || t.check v; };
    };
    mkOption = attrs: attrs // { _type = "option"; };
    mkEnableOption = what: mkOption {
      type = types.bool;
      default = false;
      description = "Whether to enable ${what}.";
    };
    mkIf = condition: content: { _type = "if"; inherit condition content; };
    literalExpression = text: { _type = "literalExpression"; inherit text; };
    optional = cond: x: if cond then [ x ] else [ ];
    concatStringsSep = builtins.concatStringsSep;
    hasPrefix = prefix: s: builtins.substring 0 (builtins.stringLength prefix) s == prefix;
    foldl' = builtins.foldl';
    setAttrByPath = path: value:
      if path == [ ] then value else { ${head path} = setAttrByPath (tail path) value; };
    hasAttrByPath = path: set:
      path == [ ] || (isAttrs set && hasAttr (head path) set && hasAttrByPath (tail path) set.${head path});
    getAttrFromPath = path: set: if path == [ ] then set else getAttrFromPath (tail path) set.${head path};
    recursiveUpdate = a: b:
      a // mapAttrs (n: v: if isAttrs v && a ? ${n} && isAttrs a.${n} then recursiveUpdate a.${n} v else v) b;
    # package.nix
    cleanSourceFilter = path: type:
      let base = baseNameOf (toString path); in
      !(type == "directory" && (base == ".git" || base == ".svn")) && match ".*~" base == null;
    cleanSourceWith = { src, filter }: { _type = "source"; inherit src filter; };
    licenses.mit = { spdxId = "MIT"; };
    platforms.linux = [ "x86_64-linux" "aarch64-linux" ];
  };

  storePath = name: "/nix/store/0000000000000000000000000000000-${name}";
  pkg = name: { outPath = storePath name; inherit name; };

  pkgs = {
    formats.json = { }: {
      type = {
        name = "json value";
        check = v: true;
      };
    };
    writeText = name: text: { outPath = storePath name; inherit name text; };
    callPackage = f: args: pkg "first-boot-agent-0.1.0";
  };

  # ---- a stand-in module evaluation ----
  resolve = v:
    if isAttrs v && (v._type or null) == "if" then
      (if v.condition then resolve v.content else { _absent = true; })
    else if isAttrs v && !(v ? outPath) && (v._type or null) == null then
      let r = mapAttrs (n: resolve) v; in
      builtins.removeAttrs r (filter (n: isAttrs r.${n} && r.${n} ? _absent) (attrNames r))
    else v;

  evalModule = user:
    let
      m = import ../../nix/module.nix {
        inherit lib pkgs;
        config = {
          services.first-boot-automation = cfg;
          systemd.package = pkg "systemd";
        };
      };
      opts = m.options.services.first-boot-automation;
      unknown = filter (n: !(opts ? ${n})) (attrNames user);
      badType = filter (n: !(opts.${n}.type.check user.${n})) (attrNames user);
      cfg =
        if unknown != [ ] then throw "no such option: ${toString unknown}"
        else if badType != [ ] then throw "wrong type for: ${toString badType}"
        else mapAttrs (n: o: user.${n} or o.default) opts;
      config = let r = resolve m.config; in if r ? _absent then { } else r;
      failed = map (a: a.message) (filter (a: !a.assertion) (config.assertions or [ ]));
      warnings = config.warnings or [ ];
      etc = config.environment.etc or { };
      svc = config.systemd.services or { };
      execStart = name: builtins.elemAt svc.${name}.serviceConfig.ExecStart 1;
      # The configuration files the module generates: name -> { mode; json; text }.
      files = builtins.listToAttrs (map (n: {
        name = n;
        value = { inherit (etc.${n}) mode; json = fromJSON etc.${n}.source.text; text = etc.${n}.source.text; };
      }) (filter (n: match "first-boot-agent/cluster-config.*json" n != null) (attrNames etc)));
    in
    { inherit m opts config failed warnings etc svc execStart files; };

  check = name: ok: detail: { inherit name detail; ok = ok == true; };
  elemAt1 = l: builtins.elemAt l 1;

  base = {
    node_id = "node04";
    node_role = "worker";
    bootstrap = false;
    cluster_name = "prod";
    leader_url = "https://10.0.1.10:2379";
    raft_addr = "10.0.1.13:2380";
  };

  hasInfix = needle: s: builtins.replaceStrings [ needle ] [ "" ] s != s;
  hasMessage = fragment: msgs: any (hasInfix fragment) msgs;
  agentBin = "${storePath "first-boot-agent-0.1.0"}/bin/first-boot-agent";
  dropinName = "first-boot-agent/cluster-config.d/50-nixos.json";
  mainName = "first-boot-agent/cluster-config.json";
  # No store secrets: every generated configuration file is copied out of the store with mode
  # 0600 and names no store path (a Nix path in settings would have become one).
  noStoreSecrets = ev: all (n: ev.files.${n}.mode == "0600" && !(hasInfix builtins.storeDir ev.files.${n}.text)) (attrNames ev.files);
  seedUnits = [ "chainfire-cluster-join.service" "flaredb-cluster-join.service" "iam-initial-setup.service" "cluster-health-check.service" ];

  # ---- the checks ----
  off = evalModule { };
  opts = off.opts;
  expectedOptions = [
    "chainfirePort" "configFile" "enable" "enableChainfire" "enableFlareDB" "enableHealthCheck"
    "enableIAM" "flaredbPort" "metricsTextfileDir" "package" "settings"
  ];
  defaults = mapAttrs (n: o: o.default) (builtins.removeAttrs opts [ "package" ]);

  # The seed's setups.
  # 1. netboot-control-plane.nix and the README's integration example: enable alone.
  seedEnable = evalModule { enable = true; };
  # 2. The README's quick start: configFile with every enable* option spelled out.
  seedQuickStart = evalModule {
    enable = true;
    configFile = "/etc/nixos/secrets/cluster-config.json";
    enableChainfire = true;
    enableFlareDB = true;
    enableIAM = true;
    enableHealthCheck = true;
  };
  # 3. "Optional: disable specific services".
  seedNoIAM = evalModule { enable = true; configFile = "/etc/nixos/secrets/cluster-config.json"; enableIAM = false; };
  # 4. "Performance tuning": the ports, with enable alone otherwise.
  seedPorts = evalModule { enable = true; chainfirePort = 2379; flaredbPort = 2479; };
  # 5. settings holding the whole configuration, with options.
  gen = evalModule { enable = true; settings = base; enableFlareDB = false; chainfirePort = 3379; };
  # 6. settings without identity: merged over the provisioned file, with a warning.
  partial = evalModule { enable = true; settings = { timeouts.health_wait_s = 300; }; };
  # Refusals.
  incomplete = evalModule { enable = true; settings = { node_id = "node04"; cluster_name = "prod"; }; };
  withProvisioning = evalModule { enable = true; settings = { node_id = "node04"; provisioning = { url = "https://10.0.0.1/"; }; }; };
  nixPath = evalModule { enable = true; settings = base // { tls = { enabled = true; node_key_path = /etc/nixos/secrets/node04.key; }; }; };
  nixPathList = evalModule { enable = true; settings = { network = [ { name = "a"; file = /etc/hosts; } ]; }; };
  storeSecret = evalModule { enable = true; settings = base // { iam.secrets_file = "${builtins.storeDir}/abc-iam-admin.json"; }; };
  storeCa = evalModule { enable = true; settings = base // { tls = { enabled = true; ca_cert_path = "${builtins.storeDir}/abc-ca.crt"; }; }; };
  fileAsPath = evalModule { enable = true; configFile = /etc/nixos/secrets/cluster-config.json; };
  fileStore = evalModule { enable = true; configFile = "${builtins.storeDir}/abc-cluster-config.json"; };
  contradiction = evalModule { enable = true; enableFlareDB = false; settings = base // { services.flaredb.enabled = true; }; };
  agreement = evalModule { enable = true; enableFlareDB = false; settings = base // { services.flaredb.enabled = false; }; };
  stateDir = evalModule { enable = true; settings = base // { state_dir = "/srv/fba"; }; };
  # Metrics for node_exporter in a directory of NixOS's choosing.
  metrics = evalModule { enable = true; metricsTextfileDir = "/var/lib/node-exporter-textfile"; };
  metricsGen = evalModule { enable = true; settings = base; metricsTextfileDir = "/var/lib/node-exporter-textfile"; };
  metricsRelative = evalModule { enable = true; metricsTextfileDir = "textfile"; };
  metricsStore = evalModule { enable = true; metricsTextfileDir = "${builtins.storeDir}/abc-textfile"; };

  # package.nix
  drv = import ../../nix/package.nix {
    inherit lib;
    stdenv.mkDerivation = attrs: attrs;
    meson = pkg "meson";
    ninja = pkg "ninja";
    pkg-config = pkg "pkg-config";
    systemd = pkg "systemd";
    curl = pkg "curl";
    jansson = pkg "jansson";
    libyaml = pkg "libyaml";
    util-linux = pkg "util-linux";
    openssl = pkg "openssl";
    zstd = pkg "zstd";
    xz = pkg "xz";
    zlib = pkg "zlib";
  };
  mesonOptions = builtins.readFile ../../meson_options.txt;
  # The verb each packaged unit runs ("ExecStart=@sbindir@/first-boot-agent VERB").
  unitVerb = name:
    let
      lines = builtins.filter isString (builtins.split "\n" (builtins.readFile (../../units + "/${name}.service.in")));
      exec = builtins.filter (l: match "ExecStart=.*" l != null) lines;
    in
    head (match "ExecStart=[^ ]*/first-boot-agent ([a-z]+).*" (head exec));
  moduleVerb = name: head (match ".*/bin/first-boot-agent --config [^ ]+ ([a-z]+)" (seedEnable.execStart name));
  dashD = map (f: head (match "-D([a-z_]+)=.*" f)) (filter (f: match "-D.*" f != null) drv.mesonFlags);
  keep = p: t: drv.src.filter (toString ../../. + "/" + p) t;
in
{
  checks = [
    (check "module: declares exactly the options ${toString expectedOptions}"
      (attrNames opts == expectedOptions) (toString (attrNames opts)))
    (check "module: every option has a type and a description"
      (all (n: opts.${n} ? type && opts.${n} ? description) (attrNames opts)) "")
    (check "module: defaults (enable off, configFile null, settings empty, the enable*/port options null: the file decides)"
      (defaults == {
        enable = false; configFile = null; settings = { };
        enableChainfire = null; enableFlareDB = null; enableIAM = null; enableHealthCheck = null;
        chainfirePort = null; flaredbPort = null; metricsTextfileDir = null;
      }) (builtins.toJSON defaults))
    (check "module: disabled, it configures nothing" (off.config == { }) (builtins.toJSON (attrNames off.config)))

    (check "seed, enable alone: no assertion, no warning" (seedEnable.failed == [ ] && seedEnable.warnings == [ ])
      (toString (seedEnable.failed ++ seedEnable.warnings)))
    (check "seed, enable alone: the agent reads the provisioned /etc/nixos/secrets/cluster-config.json"
      (seedEnable.execStart "first-boot-agent" == "${agentBin} --config /etc/nixos/secrets/cluster-config.json run")
      (seedEnable.execStart "first-boot-agent"))
    (check "seed, enable alone: nothing generated over it (no main file, no drop-in)"
      (seedEnable.files == { }) (toString (attrNames seedEnable.files)))

    (check "seed, quick start (configFile + every enable*): accepted, ExecStart= passes configFile"
      (seedQuickStart.failed == [ ] && seedQuickStart.warnings == [ ]
        && seedQuickStart.execStart "first-boot-agent" == "${agentBin} --config /etc/nixos/secrets/cluster-config.json run")
      (toString seedQuickStart.failed))
    (check "seed, quick start: the enable* options reach the agent as the drop-in 50-nixos.json (0600); the file is not rewritten"
      (!(seedQuickStart.files ? ${mainName}) && seedQuickStart.files.${dropinName}.json == {
        services = { chainfire.enabled = true; flaredb.enabled = true; iam.enabled = true; };
        health_check.enabled = true;
      } && noStoreSecrets seedQuickStart) (builtins.toJSON seedQuickStart.files))
    (check "seed, enableIAM = false with configFile: accepted; the drop-in turns iam off"
      (seedNoIAM.failed == [ ] && seedNoIAM.files.${dropinName}.json == { services.iam.enabled = false; })
      (toString seedNoIAM.failed))
    (check "seed, ports with enable alone: the provisioned file, the ports in the drop-in"
      (seedPorts.failed == [ ] && seedPorts.execStart "first-boot-agent" == "${agentBin} --config /etc/nixos/secrets/cluster-config.json run"
        && seedPorts.files.${dropinName}.json == { services = { chainfire.api_port = 2379; flaredb.api_port = 2479; }; }
        && noStoreSecrets seedPorts) (builtins.toJSON seedPorts.files))

    (check "settings with the identity: the whole configuration in /etc/first-boot-agent/cluster-config.json (0600), options merged in"
      (gen.failed == [ ] && gen.warnings == [ ] && !(gen.files ? ${dropinName})
        && gen.files.${mainName}.json == base // { services = { flaredb.enabled = false; chainfire.api_port = 3379; }; }
        && noStoreSecrets gen) (builtins.toJSON gen.files))
    (check "settings with the identity: ExecStart= passes the generated file"
      (gen.execStart "first-boot-agent" == "${agentBin} --config /etc/first-boot-agent/cluster-config.json run") (gen.execStart "first-boot-agent"))
    (check "settings without identity: merged over the provisioned file as the drop-in, with a warning that says so"
      (partial.failed == [ ] && hasMessage "has no node_id" partial.warnings
        && partial.execStart "first-boot-agent" == "${agentBin} --config /etc/nixos/secrets/cluster-config.json run"
        && partial.files.${dropinName}.json == { timeouts.health_wait_s = 300; }) (toString partial.warnings))
    (check "settings with node_id but not the rest of the identity: refused, naming what is missing"
      (hasMessage "lacks node_role, bootstrap, raft_addr" incomplete.failed) (toString incomplete.failed))
    (check "settings with node_id and a provisioning section: accepted as the main file"
      (withProvisioning.failed == [ ] && withProvisioning.files ? ${mainName}) (toString withProvisioning.failed))

    (check "a Nix path in settings is refused, naming the setting and saying to use a string outside the store"
      (hasMessage "settings.tls.node_key_path is a Nix path" nixPath.failed
        && hasMessage "Write it as a string naming a file outside the store" nixPath.failed) (toString nixPath.failed))
    (check "a Nix path inside a list in settings is refused too"
      (hasMessage "settings.network[0].file is a Nix path" nixPathList.failed) (toString nixPathList.failed))
    (check "a secret file named by a store path is refused; a CA certificate in the store is not a secret"
      (hasMessage "settings.iam.secrets_file names a file in the Nix store" storeSecret.failed && storeCa.failed == [ ])
      (toString (storeSecret.failed ++ storeCa.failed)))
    (check "configFile as a Nix path is refused"
      (hasMessage "configFile is a Nix path" fileAsPath.failed) (toString fileAsPath.failed))
    (check "configFile in the store is refused" (hasMessage "outside the Nix store" fileStore.failed) (toString fileStore.failed))
    (check "options: a settings value that contradicts an option is refused"
      (hasMessage "settings.services.flaredb.enabled contradicts enableFlareDB" contradiction.failed)
      (toString contradiction.failed))
    (check "options: a settings value that agrees with an option is accepted" (agreement.failed == [ ]) (toString agreement.failed))
    (check "settings: a state_dir other than /var/lib/first-boot-automation is refused"
      (hasMessage "state_dir must be /var/lib/first-boot-automation" stateDir.failed) (toString stateDir.failed))

    (check "metrics: metricsTextfileDir reaches the agent as metrics.textfile_dir in the drop-in, or in the generated file"
      (metrics.failed == [ ] && metrics.warnings == [ ]
        && metrics.files.${dropinName}.json == { metrics.textfile_dir = "/var/lib/node-exporter-textfile"; }
        && metricsGen.files.${mainName}.json.metrics.textfile_dir == "/var/lib/node-exporter-textfile")
      (builtins.toJSON metrics.files))
    (check "metrics: the directory is created (root, 0755) and writable for the first-boot and flash units"
      (elem "d /var/lib/node-exporter-textfile 0755 root root -" metrics.config.systemd.tmpfiles.rules
        && metrics.svc.first-boot-agent.serviceConfig.ReadWritePaths == [ "-/var/lib/node-exporter-textfile" ]
        && metrics.svc.first-boot-agent-flash.serviceConfig.ReadWritePaths == [ "-/var/lib/node-exporter-textfile" ])
      (builtins.toJSON metrics.svc.first-boot-agent.serviceConfig))
    (check "metrics: without metricsTextfileDir the units keep the packaged writable paths"
      (!(seedEnable.svc.first-boot-agent.serviceConfig ? ReadWritePaths)
        && !(seedEnable.svc.first-boot-agent-flash.serviceConfig ? ReadWritePaths)) "")
    (check "metrics: a relative or store metricsTextfileDir is refused"
      (hasMessage "metricsTextfileDir must be an absolute path outside the Nix store" metricsRelative.failed
        && hasMessage "metricsTextfileDir must be an absolute path outside the Nix store" metricsStore.failed)
      (toString (metricsRelative.failed ++ metricsStore.failed)))

    (check "units: the packaged units are installed and the gold unit is wanted by multi-user.target"
      (elem (pkg "first-boot-agent-0.1.0") seedEnable.config.systemd.packages
        && seedEnable.svc.first-boot-agent.wantedBy == [ "multi-user.target" ]
        && !(seedEnable.svc.first-boot-agent-flash ? wantedBy)) "")
    (check "units: the older automation's four unit names are aliases of first-boot-agent.service"
      (seedEnable.svc.first-boot-agent.aliases == seedUnits) (toString seedEnable.svc.first-boot-agent.aliases))
    (check "units: the flash and failure units read the same configuration"
      (seedNoIAM.execStart "first-boot-agent-flash" == "${agentBin} --config /etc/nixos/secrets/cluster-config.json flash"
        && gen.execStart "first-boot-agent-failure" == "${agentBin} --config /etc/first-boot-agent/cluster-config.json status") "")
    (check "units: the module's ExecStart= overrides run the same verbs as the packaged units"
      (all (u: moduleVerb u == unitVerb u) [ "first-boot-agent" "first-boot-agent-flash" "first-boot-agent-failure" ])
      (toString (map (u: "${u}: module ${moduleVerb u}, unit ${unitVerb u}") [ "first-boot-agent" "first-boot-agent-flash" "first-boot-agent-failure" ])))
    (check "state directory: tmpfiles.d from the package"
      (seedEnable.config.systemd.tmpfiles.packages == [ (pkg "first-boot-agent-0.1.0") ]) "")
    (check "catalog: linked into /usr/local/lib/systemd/catalog (where nixpkgs' journalctl looks) through /etc; the database rebuilt by a unit; no activation script"
      (seedEnable.etc."first-boot-agent/first-boot-agent.catalog".source == "${storePath "first-boot-agent-0.1.0"}/lib/systemd/catalog/first-boot-agent.catalog"
        && seedEnable.config.systemd.tmpfiles.rules == [ "L+ /usr/local/lib/systemd/catalog/first-boot-agent.catalog - - - - /etc/first-boot-agent/first-boot-agent.catalog" ]
        && seedEnable.svc.first-boot-agent-catalog.serviceConfig.ExecStart == "${storePath "systemd"}/bin/journalctl --update-catalog"
        && elem "systemd-tmpfiles-setup.service" seedEnable.svc.first-boot-agent-catalog.after
        && seedEnable.svc.first-boot-agent-catalog.restartTriggers == [ (pkg "first-boot-agent-0.1.0") ]
        && !(seedEnable.config ? system)) (builtins.toJSON (attrNames seedEnable.config)))

    (check "package: every -D meson flag is an option in meson_options.txt"
      (all (o: match ".*option\\('${o}'.*" (builtins.replaceStrings [ "\n" ] [ " " ] mesonOptions) != null) dashD)
      (toString dashD))
    (check "package: units go to $out/lib/systemd/system and programs to bin"
      (elem "-Dsystemdsystemunitdir=${builtins.placeholder "out"}/lib/systemd/system" drv.mesonFlags
        && elem "--sbindir=bin" drv.mesonFlags) (toString drv.mesonFlags))
    (check "package: the source filter keeps agent/ and units/, drops build dirs, packaging/ and .git"
      (keep "agent" "directory" && keep "units" "directory" && keep "meson.build" "regular"
        && !(keep "build-units" "directory") && !(keep "packaging" "directory") && !(keep ".git" "directory")) "")
    (check "package: MIT, Linux, mainProgram" (drv.meta.license.spdxId == "MIT" && drv.meta.mainProgram == "first-boot-agent") "")
  ];

  # For nix-package.sh: the derivation's inputs and flags, and the package paths the module uses.
  package = {
    nativeBuildInputs = map (p: p.name) drv.nativeBuildInputs;
    buildInputs = map (p: p.name) drv.buildInputs;
    inherit (drv) mesonFlags;
    out = builtins.placeholder "out";
    modulePaths =
      let
        prefix = "${storePath "first-boot-agent-0.1.0"}/";
        strip = s: builtins.substring (builtins.stringLength prefix) (builtins.stringLength s) s;
      in
      [
        (strip agentBin)
        (strip seedEnable.etc."first-boot-agent/first-boot-agent.catalog".source)
        "lib/systemd/system/first-boot-agent.service"
        "lib/systemd/system/first-boot-agent-flash.service"
        "lib/systemd/system/first-boot-agent-failure.service"
        "lib/tmpfiles.d/first-boot-agent.conf"
      ];
  };
}
