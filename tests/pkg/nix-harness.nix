# SPDX-License-Identifier: MIT
# Evaluates nix/module.nix and nix/package.nix without nixpkgs, which is not available
# offline: a small stand-in for the parts of lib, pkgs and the module system they use.
# Returns a list of { name; ok; detail; } for tests/pkg/nix-check.sh to print as TAP.
#
# What this checks: the option names, types, defaults and descriptions; that the module's
# config evaluates for a set of inputs (no misspelt attribute, no type error in the code);
# the JSON it writes; its assertions; the unit overrides; the package's meson flags against
# meson_options.txt and its source filter.
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
    in
    { inherit m opts config failed; };

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

  hasMessage = fragment: failed: any (msg: match ".*${fragment}.*" msg != null) failed;

  # ---- the checks ----
  off = evalModule { };
  opts = off.opts;
  expectedOptions = [
    "chainfirePort" "configFile" "enable" "enableChainfire" "enableFlareDB" "enableHealthCheck"
    "enableIAM" "flaredbPort" "package" "settings"
  ];
  defaults = mapAttrs (n: o: o.default) (builtins.removeAttrs opts [ "package" ]);

  gen = evalModule { enable = true; settings = base; };
  genJson = fromJSON gen.config.environment.etc."first-boot-agent/cluster-config.json".source.text;
  svc = gen.config.systemd.services;

  tuned = evalModule {
    enable = true;
    settings = base;
    enableFlareDB = false;
    enableHealthCheck = false;
    chainfirePort = 3379;
  };
  tunedJson = fromJSON tuned.config.environment.etc."first-boot-agent/cluster-config.json".source.text;

  file = evalModule { enable = true; configFile = "/etc/nixos/secrets/cluster-config.json"; };
  fileOverride = evalModule { enable = true; configFile = "/etc/nixos/secrets/cluster-config.json"; enableIAM = false; };
  fileSettings = evalModule { enable = true; configFile = "/etc/nixos/secrets/cluster-config.json"; settings = base; };
  fileStore = evalModule { enable = true; configFile = "/nix/store/abc-cluster-config.json"; };
  contradiction = evalModule {
    enable = true;
    enableFlareDB = false;
    settings = base // { services.flaredb.enabled = true; };
  };
  agreement = evalModule {
    enable = true;
    enableFlareDB = false;
    settings = base // { services.flaredb.enabled = false; };
  };
  stateDir = evalModule { enable = true; settings = base // { state_dir = "/srv/fba"; }; };

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
  moduleVerb = name: head (match ".*/bin/first-boot-agent --config [^ ]+ ([a-z]+)" (elemAt1 svc.${name}.serviceConfig.ExecStart));
  dashD = map (f: head (match "-D([a-z_]+)=.*" f)) (filter (f: match "-D.*" f != null) drv.mesonFlags);
  keep = p: t: drv.src.filter (toString ../../. + "/" + p) t;
in
[
  (check "module: declares exactly the options ${toString expectedOptions}"
    (attrNames opts == expectedOptions) (toString (attrNames opts)))
  (check "module: every option has a type and a description"
    (all (n: opts.${n} ? type && opts.${n} ? description) (attrNames opts)) "")
  (check "module: defaults (enable off, configFile null, settings empty, services on, ports 2379/2479)"
    (defaults == {
      enable = false; configFile = null; settings = { };
      enableChainfire = true; enableFlareDB = true; enableIAM = true; enableHealthCheck = true;
      chainfirePort = 2379; flaredbPort = 2479;
    }) (builtins.toJSON defaults))
  (check "module: disabled, it configures nothing" (off.config == { }) (builtins.toJSON (attrNames off.config)))

  (check "settings: no assertion fails" (gen.failed == [ ]) (toString gen.failed))
  (check "settings: written to /etc/first-boot-agent/cluster-config.json with mode 0600"
    (gen.config.environment.etc."first-boot-agent/cluster-config.json".mode == "0600") "")
  (check "settings: the JSON holds settings plus the option defaults"
    (genJson == base // {
      services = {
        chainfire = { enabled = true; api_port = 2379; };
        flaredb = { enabled = true; api_port = 2479; };
        iam.enabled = true;
      };
      health_check.enabled = true;
    }) (builtins.toJSON genJson))
  (check "settings: ExecStart= passes the generated file to run"
    (svc.first-boot-agent.serviceConfig.ExecStart
      == [ "" "${storePath "first-boot-agent-0.1.0"}/bin/first-boot-agent --config /etc/first-boot-agent/cluster-config.json run" ])
    (builtins.toJSON svc.first-boot-agent.serviceConfig.ExecStart))
  (check "units: the packaged units are installed and the gold unit is wanted by multi-user.target"
    (elem (pkg "first-boot-agent-0.1.0") gen.config.systemd.packages
      && svc.first-boot-agent.wantedBy == [ "multi-user.target" ]
      && !(svc.first-boot-agent-flash ? wantedBy)) "")
  (check "units: the flash and failure units read the same configuration"
    (match ".*--config /etc/first-boot-agent/cluster-config.json flash" (elemAt1 svc.first-boot-agent-flash.serviceConfig.ExecStart) != null
      && match ".*--config /etc/first-boot-agent/cluster-config.json status" (elemAt1 svc.first-boot-agent-failure.serviceConfig.ExecStart) != null) "")
  (check "state directory and catalog: tmpfiles from the package, catalog in /etc/systemd/catalog, database rebuilt on activation"
    (gen.config.systemd.tmpfiles.packages == [ (pkg "first-boot-agent-0.1.0") ]
      && gen.config.environment.etc."systemd/catalog/first-boot-agent.catalog".source
        == "${storePath "first-boot-agent-0.1.0"}/lib/systemd/catalog/first-boot-agent.catalog"
      && match ".*journalctl --update-catalog.*" gen.config.system.activationScripts.first-boot-agent-catalog.text != null) "")

  (check "options: enableFlareDB, enableHealthCheck, chainfirePort land in the JSON"
    (tunedJson.services.flaredb.enabled == false && tunedJson.health_check.enabled == false
      && tunedJson.services.chainfire.api_port == 3379 && tuned.failed == [ ]) (builtins.toJSON tunedJson))
  (check "options: a settings value that contradicts an option is refused"
    (hasMessage "settings.services.flaredb.enabled contradicts enableFlareDB" contradiction.failed)
    (toString contradiction.failed))
  (check "options: a settings value that agrees with an option is accepted" (agreement.failed == [ ]) (toString agreement.failed))

  (check "configFile: accepted alone; no file generated; ExecStart= passes it"
    (file.failed == [ ] && !(file.config.environment.etc ? "first-boot-agent/cluster-config.json")
      && elemAt1 file.config.systemd.services.first-boot-agent.serviceConfig.ExecStart
        == "${storePath "first-boot-agent-0.1.0"}/bin/first-boot-agent --config /etc/nixos/secrets/cluster-config.json run")
    (toString file.failed))
  (check "configFile: a non-default option is refused (it cannot be merged into the file)"
    (length fileOverride.failed == 1 && hasMessage "enableIAM cannot be applied to configFile" fileOverride.failed)
    (toString fileOverride.failed))
  (check "configFile: together with settings is refused" (hasMessage "either configFile or settings" fileSettings.failed)
    (toString fileSettings.failed))
  (check "configFile: a store path is refused" (hasMessage "outside the Nix store" fileStore.failed) (toString fileStore.failed))
  (check "settings: a state_dir other than /var/lib/first-boot-automation is refused"
    (hasMessage "state_dir must be /var/lib/first-boot-automation" stateDir.failed) (toString stateDir.failed))

  (check "units: the module's ExecStart= overrides run the same verbs as the packaged units"
    (all (u: moduleVerb u == unitVerb u) [ "first-boot-agent" "first-boot-agent-flash" "first-boot-agent-failure" ])
    (toString (map (u: "${u}: module ${moduleVerb u}, unit ${unitVerb u}") [ "first-boot-agent" "first-boot-agent-flash" "first-boot-agent-failure" ])))
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
]
