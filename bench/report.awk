# report.awk: turns the load generator's JSON lines (results.jsonl) into
# results.md and the chart's data file. Called by run.sh; plain POSIX awk
# (mawk is enough). Variables passed in: servers, scenarios, date, machine,
# versions, config, notesfile, chart, idle_conns, tls_idle_conns, tls_info.
#
# Each input line is one run, labelled "<server>_echo/<scenario>/<rep>". For
# every server, scenario and metric the median over the repetitions is shown,
# then the same medians divided by uv_echo's (raw libuv) and node_echo's. The
# TLS scenarios (tls_*) list only the TLS servers (tls_*_echo), divided by
# tls_uv_echo's (raw OpenSSL on raw libuv) and tls_node_echo's; the
# multi-core scenarios (mc_*) only the multi-core servers (mc_*_echo: cnet's
# workers and node's cluster, with 1 and 2 workers), divided by the 1-worker
# figures of cnet (mc_cnet1_echo) and node (mc_node1_echo); the chart shows
# the plain ones only.

# The kind of a server or scenario name: "tls", "mc" or "plain".
function kind_of(name) {
    if (name ~ /^tls_/) return "tls"
    if (name ~ /^mc_/) return "mc"
    return "plain"
}

function jget(line, key,    v) {
    if (!match(line, "\"" key "\":(\"[^\"]*\"|[^,}]*)"))
        return ""
    v = substr(line, RSTART + length(key) + 3, RLENGTH - length(key) - 3)
    gsub(/"/, "", v)
    return v == "null" ? "" : v
}

# Median of the space-separated numbers in s ("" if none).
function median(s,    a, n, i, j, t) {
    n = split(s, a, " ")
    if (n == 0)
        return ""
    for (i = 2; i <= n; i++) {  # insertion sort: n is the repetition count
        t = a[i] + 0
        for (j = i - 1; j >= 1 && a[j] + 0 > t; j--)
            a[j + 1] = a[j]
        a[j + 1] = t
    }
    return n % 2 ? a[(n + 1) / 2] + 0 : (a[n / 2] + a[n / 2 + 1]) / 2
}

# (max - min) / median over the repetitions, as a percentage ("" if < 2 values).
function spread(s,    a, n, i, lo, hi, m) {
    n = split(s, a, " ")
    if (n < 2)
        return ""
    lo = hi = a[1] + 0
    for (i = 2; i <= n; i++) {
        if (a[i] + 0 < lo) lo = a[i] + 0
        if (a[i] + 0 > hi) hi = a[i] + 0
    }
    m = median(s)
    return m > 0 ? (hi - lo) / m * 100 : ""
}

function commas(n) {
    return (n < 0 ? "-" : "") group3(sprintf("%.0f", n < 0 ? -n : n))
}

function group3(s,    out) {
    out = ""
    while (length(s) > 3) {
        out = "," substr(s, length(s) - 2) out
        s = substr(s, 1, length(s) - 3)
    }
    return s out
}

function fmt(v) {
    if (v == "")
        return "–"
    v += 0
    if (v >= 1000 || v <= -1000) return commas(v)
    if (v >= 100 || v <= -100) return sprintf("%.0f", v)
    if (v >= 10 || v <= -10) return sprintf("%.1f", v)
    return sprintf("%.2f", v)
}

function ratio(v, base) {
    if (v == "" || base == "" || base + 0 == 0)
        return ""
    return (v + 0) / (base + 0)
}

function fmt_ratio(r) {
    return r == "" ? "–" : sprintf("%.2f", r)
}

function pct(v) {
    return v == "" ? "–" : sprintf("%.0f%%", v * 100)
}

# The metrics shown for each scenario: key|header pairs, the first is primary.
function scenario_metrics(sc) {
    if (sc == "tls_hs_full" || sc == "tls_hs_resumed")
        return "ops_per_s|handshakes/s;lat_p50_us|p50 µs;lat_p99_us|p99 µs;" \
               "server_cpu_us_per_op|CPU µs/hs;server_core_us_per_op|core µs/hs;" \
               "resumed_pct|resumed %"
    sub(/^tls_/, "", sc) # tls_pp100, tls_stream, tls_idle: as their plain twins
    sub(/^mc_/, "", sc)  # mc_pp1000 too
    if (sc ~ /^pp/)
        return "ops_per_s|msgs/s;mb_per_s|MB/s;lat_p50_us|p50 µs;lat_p99_us|p99 µs;" \
               "server_cpu_us_per_op|CPU µs/msg;server_core_us_per_op|core µs/msg"
    if (sc == "stream")
        return "mb_per_s|MB/s;ops_per_s|64 KiB msgs/s;lat_p50_us|p50 µs;lat_p99_us|p99 µs;" \
               "server_cpu_us_per_op|CPU µs/msg;server_core_us_per_op|core µs/msg"
    if (sc == "connect")
        return "ops_per_s|conns/s;lat_p50_us|p50 µs;lat_p99_us|p99 µs;" \
               "server_cpu_us_per_op|CPU µs/conn;server_core_us_per_op|core µs/conn"
    if (sc == "idle")
        return "rss_per_conn_b|RSS B/conn;rss_before_kb|RSS before KiB;" \
               "rss_after_kb|RSS with conns KiB;setup_s|connect s"
    return ""
}

function scenario_title(sc) {
    if (sc == "pp1") return "Ping-pong, 1 connection, 64 B messages, TCP"
    if (sc == "pp100") return "Ping-pong, 100 connections, 64 B messages, TCP"
    if (sc == "pp1000") return "Ping-pong, 1000 connections, 64 B messages, TCP"
    if (sc == "pp100unix") return "Ping-pong, 100 connections, 64 B messages, Unix socket"
    if (sc == "stream") return "Streaming, 4 connections, 64 KiB messages, 256 KiB in flight each, TCP"
    if (sc == "connect") return "Connect rate: connect, echo 64 B, close; 32 at a time, TCP"
    if (sc == "idle") return "Idle connections: " idle_conns " held open, server RSS"
    if (sc == "tls_pp100") return "TLS ping-pong, 100 connections, 64 B messages"
    if (sc == "tls_stream") return "TLS streaming, 4 connections, 64 KiB messages, 256 KiB in flight each"
    if (sc == "tls_hs_full") return "TLS full handshakes: connect, handshake, echo 64 B, close; 32 at a time"
    if (sc == "tls_hs_resumed") return "TLS resumed handshakes (each slot offers its last ticket); 32 at a time"
    if (sc == "tls_idle") return "Idle TLS connections: " tls_idle_conns " held open after their handshake, server RSS"
    if (sc == "mc_pp1000") return "Many cores: ping-pong, 1000 connections, 64 B messages, 1 and 2 workers on one port"
    return sc
}

{
    label = jget($0, "label")
    n = split(label, part, "/")
    if (n < 3)
        next
    srv = part[1]; sc = part[2]; rep = part[3]
    runs[srv, sc]++
    if (jget($0, "failed") != "") {
        failed[srv, sc]++
        next
    }
    e = jget($0, "errors")
    if (e != "" && e + 0 > 0)
        errs[srv, sc] += e
    nk = split("ops_per_s mb_per_s lat_p50_us lat_p99_us server_cpu_us_per_op " \
               "server_core_us_per_op rss_per_conn_b rss_before_kb rss_after_kb setup_s " \
               "client_cpu_util server_cpu_util foreign_util resumed_pct", keys, " ")
    hs = jget($0, "tls_handshakes")
    if (jget($0, "tls_protocol") != "")
        tls_seen[srv] = jget($0, "tls_protocol") " " jget($0, "tls_cipher")
    for (i = 1; i <= nk; i++) {
        if (keys[i] == "resumed_pct")
            v = hs != "" && hs + 0 > 0 ? 100 * jget($0, "tls_resumed") / hs : ""
        else
            v = jget($0, keys[i])
        if (v != "") {
            vals[srv, sc, keys[i]] = vals[srv, sc, keys[i]] (vals[srv, sc, keys[i]] == "" ? "" : " ") v
            byrep[srv, sc, keys[i], rep] = v
        }
    }
    if (!(rep in repseen)) {
        repseen[rep] = 1
        replist = replist (replist == "" ? "" : " ") rep
    }
}

# Per-repetition ratios cnet_echo / uv_echo of one metric, space-separated.
# Servers alternate within a repetition, so pairing them cancels slow drift
# of the machine that the medians alone would still carry.
function paired(sc, key) {
    return paired_of(sc, key, "cnet_echo", "uv_echo")
}

# The same for any two servers: num / den per repetition.
function paired_of(sc, key, num, den,    n, r, i, s, a, b) {
    n = split(replist, r, " ")
    s = ""
    for (i = 1; i <= n; i++) {
        a = byrep[num, sc, key, r[i]]
        b = byrep[den, sc, key, r[i]]
        if (a != "" && b != "" && b + 0 > 0)
            s = s (s == "" ? "" : " ") (a + 0) / (b + 0)
    }
    return s
}

function lo_hi(s,    a, n, i, lo, hi) {
    n = split(s, a, " ")
    if (n == 0)
        return "–"
    lo = hi = a[1] + 0
    for (i = 2; i <= n; i++) {
        if (a[i] + 0 < lo) lo = a[i] + 0
        if (a[i] + 0 > hi) hi = a[i] + 0
    }
    return sprintf("%.2f–%.2f", lo, hi)
}

# Smallest (or, with hi, largest) of the space-separated numbers in s.
function best(s, hi,    a, n, i, b) {
    n = split(s, a, " ")
    if (n == 0)
        return ""
    b = a[1] + 0
    for (i = 2; i <= n; i++)
        if ((hi && a[i] + 0 > b) || (!hi && a[i] + 0 < b))
            b = a[i] + 0
    return b
}

# One row of the targets table. kind "ratio": cnet ÷ uv must be <= limit (or
# >= limit when ge), judged on each server's best repetition (lowest cost,
# highest throughput); kind "abs": cnet's median must be <= limit.
function target_row(what, sc, key, kind, limit, ge,    c, u, v, p, shown, pm, mm, ok, lim) {
    if (!(sc in scen_on)) {
        print "| " what " | | not run | | | |"
        notrun++
        return
    }
    c = median(vals["cnet_echo", sc, key])
    u = median(vals["uv_echo", sc, key])
    if (kind == "abs") {
        v = c
        shown = v == "" ? "–" : fmt(v) " B (median)"
        pm = mm = "–"
        lim = "≤ " limit " B"
    } else {
        v = ratio(best(vals["cnet_echo", sc, key], ge), best(vals["uv_echo", sc, key], ge))
        shown = v == "" ? "–" : sprintf("%.2f×", v)
        p = paired(sc, key)
        pm = p == "" ? "–" : sprintf("%.2f× (%s)", median(p), lo_hi(p))
        mm = ratio(c, u)
        mm = mm == "" ? "–" : sprintf("%.2f×", mm)
        lim = (ge ? "≥ " : "≤ ") sprintf("%.2f×", limit)
    }
    if (v == "")
        ok = "no data"
    else if (ge)
        ok = v + 0 >= limit ? "met" : "**not met**"
    else
        ok = v + 0 <= limit ? "met" : "**not met**"
    if (ok != "met")
        missed++
    print "| " what " | " lim " | " shown " | " pm " | " mm " | " ok " |"
}

function print_targets() {
    print "## cnet's targets (issue 4)"
    print ""
    print "cnet_echo against raw libuv (uv_echo), which run back to back in every repetition."
    print "The verdict compares each server's best repetition (lowest CPU per operation,"
    print "highest MB/s): on this shared machine, interference only ever slows a run down,"
    print "in phases that hit every server alike and come and go within a minute, so the"
    print "best run is the one that measured the server and not the phase. *Paired* (the"
    print "median and range of the per-repetition ratios) and the ratio of the two medians"
    print "(as in the tables below) are shown next to it; see bench/README.md."
    print ""
    print "| target | limit | best ÷ best | paired: median (range) | ratio of medians | |"
    print "|---|---:|---:|---:|---:|---|"
    missed = notrun = 0
    target_row("server CPU per message, 100 connections", "pp100", "server_cpu_us_per_op", "ratio", 1.10, 0)
    target_row("server CPU per message, 1000 connections", "pp1000", "server_cpu_us_per_op", "ratio", 1.10, 0)
    target_row("server CPU per message, 100 connections, Unix socket", "pp100unix", "server_cpu_us_per_op", "ratio", 1.10, 0)
    target_row("streaming MB/s", "stream", "mb_per_s", "ratio", 0.95, 1)
    target_row("connect rate: server CPU per connection", "connect", "server_cpu_us_per_op", "ratio", 1.2, 0)
    target_row("user-space memory per idle connection", "idle", "rss_per_conn_b", "abs", 1024, 0)
    print ""
    if (missed)
        print missed " target(s) not met in this run."
    else
        print "Every target " (notrun ? "that was measured " : "") "is met in this run."
    print ""
}

# One row of the TLS targets table (issue 9): cnet's TLS server against the
# floor (tls_uv_echo) or node (tls_node_echo). kind "best": each server's best
# repetition (lowest cost, highest throughput), as the plain targets; kind
# "median" (memory, which does not vary): the medians; kind "info": shown,
# with no limit. The floor column, tls_uv ÷ node, is what raw OpenSSL
# reaches: a limit against node that the floor itself misses is called out.
function tls_target_row(what, sc, key, base, kind, limit, ge,
                        u, n, c, b, v, mm, fl, p, lim, ok) {
    if (!(sc in scen_on)) {
        print "| " what " | | | | | | | | not run |"
        return
    }
    u = median(vals["tls_uv_echo", sc, key])
    n = median(vals["tls_node_echo", sc, key])
    c = median(vals["tls_cnet_echo", sc, key])
    b = median(vals[base, sc, key])
    if (kind == "median")
        v = ratio(c, b)
    else
        v = ratio(best(vals["tls_cnet_echo", sc, key], ge), best(vals[base, sc, key], ge))
    mm = ratio(c, b)
    fl = ratio(u, n)
    p = kind == "median" ? "" : paired_of(sc, key, "tls_cnet_echo", base)
    lim = kind == "info" ? "–" : (ge ? "≥ " : "≤ ") sprintf("%.2f×", limit) " " \
          (base == "tls_uv_echo" ? "tls_uv" : "node")
    if (kind == "info")
        ok = "(no target)"
    else if (c == "")
        ok = "not run"
    else if (v == "")
        ok = "no data"
    else if (ge ? v + 0 >= limit : v + 0 <= limit)
        ok = "met"
    else {
        ok = "**not met**"
        tls_missed++
    }
    if (kind != "info" && base == "tls_node_echo" && fl != "" &&
        (ge ? fl + 0 < limit : fl + 0 > limit))
        ok = ok "; the floor misses it too (tls_uv ÷ node = " sprintf("%.2f", fl) ")"
    print "| " what " | " lim " | " fmt(u) " | " fmt(n) " | " fmt(c) " | " \
          (v == "" ? "–" : sprintf("%.2f×", v)) \
          (p == "" ? "" : sprintf(" (paired %.2f×)", median(p))) " | " \
          (mm == "" ? "–" : sprintf("%.2f×", mm)) " | " \
          (fl == "" ? "–" : sprintf("%.2f×", fl)) " | " ok " |"
}

function print_tls_targets(    s, line, nseen) {
    print "## TLS: cnet's targets (issue 9) and the floor"
    print ""
    print "The TLS servers side by side: `tls_uv_echo` is raw OpenSSL on raw libuv (the floor),"
    print "`tls_node_echo` is node's `tls`, `tls_cnet_echo` is cnet. The three value columns are"
    print "medians. *cnet ÷ base, best* compares each server's best repetition, as the plain targets"
    print "do (paired: the median of the per-repetition ratios), except for memory, which compares"
    print "medians; *floor* is tls_uv ÷ node, what raw OpenSSL reaches against node."
    if (tls_info != "")
        print "Certificate: " tls_info "."
    nseen = 0
    line = ""
    for (s in tls_seen) {
        line = line (nseen ? "; " : "") s ": " tls_seen[s]
        nseen++
    }
    if (nseen)
        print "Negotiated: " line "."
    if (!("tls_cnet_echo" in srv_on))
        print "**tls_cnet_echo was not run** (not built yet): the table documents the floor against node."
    print ""
    print "| target | limit | tls_uv_echo | tls_node_echo | tls_cnet_echo | cnet ÷ base: best | cnet ÷ base: medians | floor: tls_uv ÷ node | |"
    print "|---|---:|---:|---:|---:|---:|---:|---:|---|"
    tls_missed = 0
    tls_target_row("server CPU µs per message, 100 connections", "tls_pp100", "server_cpu_us_per_op", "tls_uv_echo", "best", 1.10, 0)
    tls_target_row("server CPU µs per message, 100 connections", "tls_pp100", "server_cpu_us_per_op", "tls_node_echo", "best", 0.50, 0)
    tls_target_row("server CPU µs per full handshake", "tls_hs_full", "server_cpu_us_per_op", "tls_uv_echo", "best", 1.05, 0)
    tls_target_row("server CPU µs per resumed handshake", "tls_hs_resumed", "server_cpu_us_per_op", "tls_uv_echo", "best", 1.05, 0)
    tls_target_row("RSS B per idle TLS connection", "tls_idle", "rss_per_conn_b", "tls_node_echo", "median", 0.25, 0)
    tls_target_row("bulk MB/s", "tls_stream", "mb_per_s", "tls_uv_echo", "info", 0, 1)
    tls_target_row("full handshakes/s", "tls_hs_full", "ops_per_s", "tls_uv_echo", "info", 0, 1)
    tls_target_row("resumed handshakes/s", "tls_hs_resumed", "ops_per_s", "tls_uv_echo", "info", 0, 1)
    print ""
    if (tls_missed)
        print tls_missed " TLS target(s) not met in this run."
    print ""
}

END {
    ns = split(servers, sv, " ")
    for (i = 1; i <= ns; i++) {
        sv[i] = sv[i] "_echo"
        srv_on[sv[i]] = 1
    }
    nsc = split(scenarios, scv, " ")
    has_tls = 0
    for (k = 1; k <= nsc; k++) {
        scen_on[scv[k]] = 1
        if (scv[k] ~ /^tls_/)
            has_tls = 1
    }
    has_targets = 0
    for (i = 1; i <= ns; i++)
        if (sv[i] == "cnet_echo" || sv[i] == "uv_echo")
            has_targets++

    print "# cnet benchmark results"
    print ""
    print "Generated by `bench/run.sh` on " date "."
    print ""
    print "- Machine: " machine
    print "- Versions: " versions
    print "- Runs: " config
    print "- Every number is the median over the repetitions. Ratios are `value ÷ uv_echo` and"
    print "  `value ÷ node_echo` (raw libuv and Node.js = 1.00). For msgs/s, MB/s and conns/s"
    print "  higher is better; for latency, CPU and RSS lower is better. See bench/README.md."
    while ((getline line < notesfile) > 0)
        print "- Note: " line
    print ""
    if (has_targets == 2)
        print_targets()
    if (has_tls && (("tls_uv_echo" in srv_on) || ("tls_node_echo" in srv_on)))
        print_tls_targets()

    # Chart blocks: throughput, server CPU per op (and idle RSS), p99 latency.
    hdr = "scenario"
    for (i = 1; i <= ns; i++)
        if (sv[i] != "uv_echo" && kind_of(sv[i]) == "plain")
            hdr = hdr " " sv[i]
    blocks = 3

    for (k = 1; k <= nsc; k++) {
        sc = scv[k]
        # Plain scenarios list the plain servers against uv and node; TLS ones the TLS servers.
        kd = kind_of(sc)
        base_uv = kd == "tls" ? "tls_uv_echo" : kd == "mc" ? "mc_cnet1_echo" : "uv_echo"
        base_node = kd == "tls" ? "tls_node_echo" : kd == "mc" ? "mc_node1_echo" : "node_echo"
        nkind = 0
        for (i = 1; i <= ns; i++)
            if (kind_of(sv[i]) == kd)
                nkind++
        if (nkind == 0)
            continue # no server of this kind ran (e.g. TLS without OpenSSL)
        nm = split(scenario_metrics(sc), mspec, ";")
        for (j = 1; j <= nm; j++) {
            split(mspec[j], kv, "|")
            mkey[j] = kv[1]; mhdr[j] = kv[2]
        }
        for (i = 1; i <= ns; i++)
            for (j = 1; j <= nm; j++)
                med[sv[i], j] = median(vals[sv[i], sc, mkey[j]])

        print "## " scenario_title(sc) " (`" sc "`)"
        print ""
        line = "| server |"; sep = "|---|"
        for (j = 1; j <= nm; j++) { line = line " " mhdr[j] " |"; sep = sep "---:|" }
        line = line " spread | server CPU | client CPU | other load |"
        sep = sep "---:|---:|---:|---:|"
        print line; print sep
        for (i = 1; i <= ns; i++) {
            s = sv[i]
            if (kind_of(s) != kd)
                continue
            line = "| " s " |"
            for (j = 1; j <= nm; j++)
                line = line " " fmt(med[s, j]) " |"
            sp = spread(vals[s, sc, mkey[1]])
            line = line " " (sp == "" ? "–" : sprintf("±%.0f%%", sp / 2)) " |"
            line = line " " pct(median(vals[s, sc, "server_cpu_util"])) " |"
            line = line " " pct(median(vals[s, sc, "client_cpu_util"])) " |"
            fu = median(vals[s, sc, "foreign_util"])
            line = line " " pct(fu) (fu != "" && fu > 0.1 ? " ⚠" : "") " |"
            if (failed[s, sc] + 0 > 0)
                line = line " " failed[s, sc] " of " runs[s, sc] " run(s) failed"
            if (errs[s, sc] + 0 > 0)
                line = line " " errs[s, sc] " connection error(s)"
            print line
        }
        print ""
        line = "| ÷ " base_uv " / ÷ " base_node " |"; sep = "|---|"
        for (j = 1; j <= nm; j++) { line = line " " mhdr[j] " |"; sep = sep "---:|" }
        print line; print sep
        for (i = 1; i <= ns; i++) {
            s = sv[i]
            if (kind_of(s) != kd)
                continue
            line = "| " s " |"
            for (j = 1; j <= nm; j++)
                line = line " " fmt_ratio(ratio(med[s, j], med[base_uv, j])) " / " \
                       fmt_ratio(ratio(med[s, j], med[base_node, j])) " |"
            print line
        }
        print ""
        if (kd == "mc") {
            # How two workers scale, and cnet against node's cluster at each count.
            c1 = med["mc_cnet1_echo", 1]; c2 = med["mc_cnet2_echo", 1]
            n1 = med["mc_node1_echo", 1]; n2 = med["mc_node2_echo", 1]
            print "Scaling from 1 to 2 workers (msgs/s): cnet " fmt_ratio(ratio(c2, c1)) \
                  "x, node cluster " fmt_ratio(ratio(n2, n1)) "x; cnet ÷ node: " \
                  fmt_ratio(ratio(c1, n1)) " with 1 worker, " fmt_ratio(ratio(c2, n2)) \
                  " with 2. The load generator shares the cores (see bench/README.md)."
            print ""
        }
        if (kd != "plain")
            continue # the chart is of the plain servers

        # Chart rows: ratios to uv_echo ("?" when missing).
        tput = ""; cost = ""; lat = ""
        for (i = 1; i <= ns; i++) {
            s = sv[i]
            if (s == "uv_echo" || kind_of(s) != "plain")
                continue
            r = ratio(med[s, 1], med["uv_echo", 1])
            if (sc == "idle") {
                cost = cost " " (r == "" ? "?" : r)
                continue
            }
            tput = tput " " (r == "" ? "?" : r)
            for (j = 1; j <= nm; j++) {
                if (mkey[j] == "server_cpu_us_per_op") {
                    r = ratio(med[s, j], med["uv_echo", j])
                    cost = cost " " (r == "" ? "?" : r)
                }
                if (mkey[j] == "lat_p99_us") {
                    r = ratio(med[s, j], med["uv_echo", j])
                    lat = lat " " (r == "" ? "?" : r)
                }
            }
        }
        if (tput != "") rows[1] = rows[1] "\"" sc "\"" tput "\n"
        if (cost != "") rows[2] = rows[2] "\"" (sc == "idle" ? "idle RSS" : sc) "\"" cost "\n"
        if (lat != "") rows[3] = rows[3] "\"" sc "\"" lat "\n"
    }

    print "![ratios to raw libuv](results.png)"
    print ""
    print "Raw data, one JSON line per run: `results.jsonl`."

    for (b = 1; b <= blocks; b++) {
        printf "%s\n%s", hdr, rows[b] > chart
        if (rows[b] == "")
            printf "\"none\"\n" > chart
        if (b < blocks)
            printf "\n\n" > chart
    }
}
