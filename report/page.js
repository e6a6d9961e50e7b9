// Browser script of the rift report (inlined into report.html by render.ts;
// plain ES2020, no modules, no network). Reads the JSON embedded in
// #rift-data, draws the timeline on a canvas and the latency/throughput
// charts with uPlot, and exposes window.riftReport for tests:
//   barCount  client ops the last timeline draw represented (drawn, or merged
//             into an already drawn pixel column when sub-pixel wide)
//   rectCount rectangles actually filled
//   ready     true once everything is drawn; errors: messages of failures.
(function () {
  'use strict';
  var R = (window.riftReport = { ready: false, errors: [], barCount: 0, rectCount: 0, lanes: 0, lanesDrawn: 0, drawMs: 0, charts: 0 });

  function fail(where, e) {
    var msg = where + ': ' + (e && e.stack ? e.stack : String(e));
    R.errors.push(msg);
    console.error(msg);
    var b = document.createElement('div');
    b.className = 'error-banner';
    b.textContent = 'Could not draw the ' + where + ': ' + (e && e.message ? e.message : String(e));
    var sec = document.getElementById(where === 'timeline' ? 'timeline-section' : where + '-section') || document.body;
    sec.appendChild(b);
  }

  var D;
  try {
    D = JSON.parse(document.getElementById('rift-data').textContent);
  } catch (e) {
    fail('data', e);
    return;
  }

  var OUTCOMES = ['ok', 'fail', 'info', 'pending'];
  var OCOL = ['#4f9de8', '#f087b4', '#ffaa26', '#ffaa26'];
  var FAULT_RGB = {
    partition: '229,72,77',
    kill: '90,90,90',
    pause: '142,78,198',
    clock: '18,165,148',
    loss: '214,118,28',
    delay: '181,145,30',
    duplicate: '63,110,200',
  };
  function faultColor(kind, a) {
    return 'rgba(' + (FAULT_RGB[kind] || '229,72,77') + ',' + a + ')';
  }
  var isNs = D.timeUnit === 'ns';
  var S = D.op.s;
  var E = D.op.e;
  var O = D.op.o;
  var N = S.length;
  var nLanes = D.lanes.length;
  var span = D.span > 0 ? D.span : 1;
  // Where each op's bar ends: its completion; for info / never completed, the
  // end of the history (Jepsen's convention: it may take effect any time
  // later). A process should issue nothing after an info op; if one does,
  // the bar stops at its next op so a lane's bars stay in order.
  var END = new Float64Array(N);
  (function () {
    for (var l = 0; l < nLanes; l++) {
      var hi = D.laneOff[l + 1];
      for (var i = D.laneOff[l]; i < hi; i++) {
        var e = O[i] >= 2 || E[i] === null ? (i + 1 < hi ? Math.max(S[i + 1], E[i] === null ? S[i] : E[i]) : span) : E[i];
        END[i] = i > D.laneOff[l] ? Math.max(e, END[i - 1]) : e;
      }
    }
  })();
  function barEnd(i) {
    return END[i];
  }
  function fmtT(t) {
    if (!isNs) return '#' + Math.round(t);
    var a = Math.abs(t);
    return (a >= 100 ? t.toFixed(1) : a >= 1 ? t.toFixed(2) : t.toFixed(3)) + ' s';
  }
  function fmtLat(d) {
    if (!isNs) return d + ' ops';
    var ms = d * 1000;
    return (ms >= 100 ? ms.toFixed(0) : ms >= 1 ? ms.toFixed(1) : ms.toFixed(3)) + ' ms';
  }

  // Shared x range (display units), synced between the timeline and charts.
  var full = { min: -span * 0.01, max: span * 1.01 };
  var view = { min: full.min, max: full.max };
  var listeners = [];
  var syncing = false;
  function setView(min, max, from) {
    if (!(max > min)) return;
    var minW = isNs ? 1e-6 : 1;
    if (max - min < minW) {
      var c = (min + max) / 2;
      min = c - minW / 2;
      max = c + minW / 2;
    }
    view.min = min;
    view.max = max;
    if (syncing) return;
    syncing = true;
    try {
      for (var i = 0; i < listeners.length; i++) if (listeners[i].from !== from) listeners[i].fn(min, max);
    } finally {
      syncing = false;
    }
  }

  // ---------------------------------------------------------------- timeline
  function setupTimeline() {
    var wrap = document.getElementById('tl-wrap');
    var canvas = document.getElementById('tl-canvas');
    var spacer = document.getElementById('tl-spacer');
    var tip = document.getElementById('tl-tip');
    var ctx = canvas.getContext('2d');
    var AXIS_H = 22;
    var GUTTER = 64;
    var laneH = Math.max(4, Math.min(18, Math.floor(560 / Math.max(1, nLanes))));
    var barH = Math.max(2, Math.round(laneH * 0.7));
    var totalH = AXIS_H + nLanes * laneH + 4;
    var viewH = Math.min(totalH, 620);
    var dpr = window.devicePixelRatio || 1;
    var W = 0;
    R.lanes = nLanes;

    var colCounts = null;
    var failingPos = [];
    if (D.failing.length > 0) {
      var want = {};
      D.failing.forEach(function (f) { want[f.index] = true; });
      for (var i = 0; i < N; i++) if (want[D.op.i[i]]) failingPos.push(i);
    }

    // Legend.
    var legend = document.getElementById('tl-legend');
    var items = [['ok', OCOL[0]], ['fail', OCOL[1]], ['info / unknown', OCOL[2]]];
    var kinds = {};
    D.faults.forEach(function (f) { kinds[f.kind] = f.label || f.kind; });
    Object.keys(kinds).forEach(function (k) { items.push([kinds[k], faultColor(k, 0.3)]); });
    legend.innerHTML = '';
    items.forEach(function (it) {
      var s = document.createElement('span');
      var sw = document.createElement('span');
      sw.className = 'sw';
      sw.style.background = it[1];
      s.appendChild(sw);
      s.appendChild(document.createTextNode(it[0]));
      legend.appendChild(s);
    });

    function resize() {
      W = Math.max(300, wrap.clientWidth);
      canvas.style.width = W + 'px';
      canvas.style.height = viewH + 'px';
      canvas.width = Math.round(W * dpr);
      canvas.height = Math.round(viewH * dpr);
      spacer.style.height = Math.max(0, totalH - viewH) + 'px';
      wrap.style.height = viewH + 2 + 'px';
      draw();
    }
    function tx(t) {
      return GUTTER + ((t - view.min) / (view.max - view.min)) * (W - GUTTER - 8);
    }
    function xt(x) {
      return view.min + ((x - GUTTER) / (W - GUTTER - 8)) * (view.max - view.min);
    }
    // First op of a lane whose bar ends at or after t. Ends are non-decreasing
    // within a lane: a process has one op outstanding at a time, and nothing
    // follows an info op.
    function firstEndingAfter(lo, hi, t) {
      while (lo < hi) {
        var mid = (lo + hi) >> 1;
        if (barEnd(mid) < t) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    }
    function niceStep(range, target) {
      var raw = range / target;
      var p = Math.pow(10, Math.floor(Math.log10(raw)));
      var m = raw / p;
      return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
    }

    function draw() {
      var t0 = performance.now();
      var scrollTop = wrap.scrollTop;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, W, viewH);
      var firstLane = Math.max(0, Math.floor(scrollTop / laneH));
      var lastLane = Math.min(nLanes - 1, Math.ceil((scrollTop + viewH - AXIS_H) / laneH));
      var yOf = function (lane) { return AXIS_H + lane * laneH - scrollTop; };
      // Lane stripes.
      for (var l = firstLane; l <= lastLane; l++) {
        if (l % 2 === 1) {
          ctx.fillStyle = '#f6f8fa';
          ctx.fillRect(GUTTER, yOf(l), W - GUTTER, laneH);
        }
      }
      // Fault shading.
      D.faults.forEach(function (f) {
        var a = Math.max(GUTTER, tx(f.s));
        var b = Math.min(W, tx(f.e));
        if (b < GUTTER || a > W) return;
        ctx.fillStyle = faultColor(f.kind, 0.14);
        ctx.fillRect(a, AXIS_H, Math.max(1, b - a), viewH - AXIS_H);
        ctx.fillStyle = faultColor(f.kind, 0.7);
        ctx.fillRect(a, AXIS_H, Math.max(1, b - a), 3);
      });
      // Bars, one Path2D per outcome colour.
      var paths = [new Path2D(), new Path2D(), new Path2D()];
      var bars = 0;
      var rects = 0;
      var x0v = view.min;
      var x1v = view.max;
      var cols = Math.ceil(W) + 1;
      if (!colCounts || colCounts.length < cols * 3) colCounts = new Uint32Array(cols * 3);
      for (l = firstLane; l <= lastLane; l++) {
        var y = yOf(l) + (laneH - barH) / 2;
        var lo = D.laneOff[l];
        var hi = D.laneOff[l + 1];
        var touched = [];
        for (var i = firstEndingAfter(lo, hi, x0v); i < hi; i++) {
          if (S[i] > x1v) break;
          var c = O[i] === 3 ? 2 : O[i];
          var a = tx(S[i]);
          var b = tx(barEnd(i));
          if (a < GUTTER) a = GUTTER;
          if (b > W) b = W;
          bars++;
          if (b - a < 1) {
            // Sub-pixel: count it in its pixel column; the column is drawn
            // below as a stack of the outcomes' shares, so a dense stretch
            // shows its real mix instead of whichever colour came last.
            var col = Math.floor(a);
            var at = col * 3;
            if (colCounts[at] + colCounts[at + 1] + colCounts[at + 2] === 0) touched.push(col);
            colCounts[at + c]++;
          } else {
            paths[c].rect(a, y, b - a - (b - a > 3 ? 0.5 : 0), barH);
            rects++;
          }
        }
        for (var t2 = 0; t2 < touched.length; t2++) {
          var cc = touched[t2] * 3;
          var tot = colCounts[cc] + colCounts[cc + 1] + colCounts[cc + 2];
          var yy = y;
          for (var k2 = 0; k2 < 3; k2++) {
            var n2 = colCounts[cc + k2];
            if (n2 === 0) continue;
            var hgt = (barH * n2) / tot;
            paths[k2].rect(touched[t2], yy, 1, hgt);
            yy += hgt;
            rects++;
            colCounts[cc + k2] = 0;
          }
        }
      }
      for (var k = 0; k < 3; k++) {
        ctx.fillStyle = OCOL[k];
        ctx.fill(paths[k]);
      }
      // The ops that could not be linearized.
      failingPos.forEach(function (i) {
        var lane = laneOfPos(i);
        if (lane < firstLane || lane > lastLane) return;
        var a = Math.max(GUTTER, tx(S[i]));
        var b = Math.min(W, Math.max(a + 3, tx(barEnd(i))));
        var yy = yOf(lane) + (laneH - barH) / 2;
        ctx.strokeStyle = '#c4161c';
        ctx.lineWidth = 2;
        ctx.strokeRect(a - 2, yy - 2, b - a + 4, barH + 4);
      });
      // Nemesis markers (unpaired events).
      ctx.fillStyle = '#555';
      D.markers.forEach(function (m) {
        var x = tx(m.t);
        if (x >= GUTTER && x <= W) ctx.fillRect(x, AXIS_H, 1, viewH - AXIS_H);
      });
      // Gutter with lane labels, and the time axis.
      ctx.fillStyle = '#fff';
      ctx.fillRect(0, 0, GUTTER, viewH);
      ctx.fillRect(0, 0, W, AXIS_H);
      ctx.fillStyle = '#46505c';
      ctx.font = '11px system-ui, sans-serif';
      ctx.textBaseline = 'middle';
      // Every lane's label when they fit, else every k-th (and the lane count on top).
      var every = laneH >= 9 ? 1 : Math.ceil(12 / laneH);
      for (l = firstLane; l <= lastLane; l++) {
        if (l % every !== 0) continue;
        var ly = yOf(l) + laneH / 2;
        if (ly > AXIS_H + 4) ctx.fillText(D.lanes[l], 6, ly);
      }
      if (every > 1) {
        ctx.fillStyle = '#8a94a0';
        ctx.fillText(nLanes + ' lanes', 6, 9);
      }
      var step = niceStep(view.max - view.min, Math.max(2, Math.floor((W - GUTTER) / 110)));
      ctx.strokeStyle = '#d5dbe1';
      ctx.lineWidth = 1;
      ctx.textAlign = 'center';
      for (var t = Math.ceil(view.min / step) * step; t <= view.max; t += step) {
        var x = tx(t);
        if (x < GUTTER) continue;
        ctx.beginPath();
        ctx.moveTo(Math.round(x) + 0.5, AXIS_H - 5);
        ctx.lineTo(Math.round(x) + 0.5, AXIS_H);
        ctx.stroke();
        ctx.fillText(fmtT(Math.abs(t) < step / 1e6 ? 0 : t), x, 9);
      }
      ctx.textAlign = 'left';
      ctx.strokeStyle = '#b8c2cc';
      ctx.beginPath();
      ctx.moveTo(GUTTER, AXIS_H + 0.5);
      ctx.lineTo(W, AXIS_H + 0.5);
      ctx.stroke();

      R.barCount = bars;
      R.rectCount = rects;
      R.lanesDrawn = nLanes === 0 ? 0 : lastLane - firstLane + 1;
      R.drawMs = performance.now() - t0;
      canvas.setAttribute('data-bar-count', String(bars));
      canvas.setAttribute('data-rect-count', String(rects));
      document.getElementById('tl-range').textContent = 'showing ' + fmtT(view.min) + ' – ' + fmtT(view.max) + ' · ' + bars + ' ops drawn';
    }

    function laneOfPos(i) {
      var lo = 0;
      var hi = nLanes - 1;
      while (lo < hi) {
        var mid = (lo + hi + 1) >> 1;
        if (D.laneOff[mid] <= i) lo = mid;
        else hi = mid - 1;
      }
      return lo;
    }

    // For tests and debugging: viewport coordinates of the middle of op i's bar (null when not on screen).
    R.barCenter = function (i) {
      var lane = laneOfPos(i);
      var a = Math.max(GUTTER, tx(S[i]));
      var b = Math.min(W, tx(barEnd(i)));
      var y = AXIS_H + lane * laneH - wrap.scrollTop + laneH / 2;
      if (b < GUTTER || a > W || y < AXIS_H || y > viewH) return null;
      var r = canvas.getBoundingClientRect();
      return { x: r.left + (a + b) / 2, y: r.top + y, invokeIndex: D.op.i[i] };
    };

    var pending = false;
    function schedule() {
      if (pending) return;
      pending = true;
      requestAnimationFrame(function () {
        pending = false;
        try {
          draw();
        } catch (e) {
          fail('timeline', e);
        }
      });
    }
    listeners.push({ from: 'timeline', fn: schedule });

    // Hover: the op under the pointer (or within 3 px of it) in the lane under it.
    function opAt(mx, my) {
      var lane = Math.floor((my - AXIS_H + wrap.scrollTop) / laneH);
      if (my < AXIS_H || lane < 0 || lane >= nLanes || mx < GUTTER) return -1;
      var t = xt(mx);
      var slack = (3 * (view.max - view.min)) / (W - GUTTER);
      var lo = D.laneOff[lane];
      var hi = D.laneOff[lane + 1];
      var i = firstEndingAfter(lo, hi, t - slack);
      if (i < hi && S[i] <= t + slack) return i;
      return -1;
    }
    function showTip(i, cx, cy) {
      if (i < 0) {
        tip.hidden = true;
        return;
      }
      var lines = [];
      lines.push(D.fs[D.op.f[i]] + ' ' + D.op.v[i] + '  → ' + OUTCOMES[O[i]]);
      lines.push('key: ' + JSON.stringify(D.keys[D.op.k[i]]) + '   process: ' + D.op.p[i] + (D.laneMode === 'thread' ? ' (thread ' + D.lanes[laneOfPos(i)].slice(1) + ')' : ''));
      if (D.op.err[i]) lines.push('error: ' + D.op.err[i]);
      lines.push('invoke #' + D.op.i[i] + ' at ' + fmtT(S[i]) + (D.op.c[i] >= 0 ? ',  completion #' + D.op.c[i] + ' at ' + fmtT(E[i]) : ',  never completed'));
      if (E[i] !== null) lines.push('latency: ' + fmtLat(E[i] - S[i]));
      if (failingPos.indexOf(i) >= 0) lines.push('✕ could not be linearized');
      tip.textContent = lines.join('\n');
      tip.hidden = false;
      var x = cx + 14;
      var y = cy + 14;
      var r = tip.getBoundingClientRect();
      if (x + r.width > window.innerWidth - 8) x = cx - r.width - 10;
      if (y + r.height > window.innerHeight - 8) y = cy - r.height - 10;
      tip.style.left = x + 'px';
      tip.style.top = y + 'px';
    }

    var drag = null;
    canvas.addEventListener('mousedown', function (e) {
      drag = { x: e.clientX, min: view.min, max: view.max };
      canvas.classList.add('dragging');
      e.preventDefault();
    });
    window.addEventListener('mouseup', function () {
      drag = null;
      canvas.classList.remove('dragging');
    });
    window.addEventListener('mousemove', function (e) {
      if (drag !== null) {
        var dt = ((e.clientX - drag.x) / (W - GUTTER - 8)) * (drag.max - drag.min);
        setView(drag.min - dt, drag.max - dt, null);
        tip.hidden = true;
        return;
      }
      if (e.target !== canvas) {
        tip.hidden = true;
        return;
      }
      var rect = canvas.getBoundingClientRect();
      showTip(opAt(e.clientX - rect.left, e.clientY - rect.top), e.clientX, e.clientY);
    });
    canvas.addEventListener('mouseleave', function () { tip.hidden = true; });
    canvas.addEventListener(
      'wheel',
      function (e) {
        if (e.shiftKey) return; // let the lanes scroll
        e.preventDefault();
        var rect = canvas.getBoundingClientRect();
        var at = xt(e.clientX - rect.left);
        var f = Math.pow(1.0015, e.deltaY);
        setView(at - (at - view.min) * f, at + (view.max - at) * f, null);
      },
      { passive: false },
    );
    canvas.addEventListener('dblclick', function () { setView(full.min, full.max, null); });
    wrap.addEventListener('scroll', schedule);
    window.addEventListener('resize', function () { resize(); });
    document.getElementById('tl-reset').addEventListener('click', function () { setView(full.min, full.max, null); });
    var toFail = document.getElementById('tl-failure');
    if (toFail && failingPos.length > 0) {
      toFail.addEventListener('click', function () {
        var i = failingPos[0];
        var a = S[i];
        var b = barEnd(i);
        var w = Math.max((b - a) * 8, isNs ? 0.05 : 20);
        setView(a - w / 2, b + w / 2, null);
        var lane = laneOfPos(i);
        wrap.scrollTop = Math.max(0, lane * laneH - viewH / 2);
      });
    }
    resize();
  }

  // ------------------------------------------------------------------ charts
  function shadeFaults(u) {
    var ctx = u.ctx;
    var bb = u.bbox;
    ctx.save();
    D.faults.forEach(function (f) {
      var a = Math.max(bb.left, u.valToPos(f.s, 'x', true));
      var b = Math.min(bb.left + bb.width, u.valToPos(f.e, 'x', true));
      if (b <= a) return;
      ctx.fillStyle = faultColor(f.kind, 0.12);
      ctx.fillRect(a, bb.top, b - a, bb.height);
    });
    ctx.restore();
  }

  function chartWidth(el) {
    return Math.max(300, el.clientWidth || document.body.clientWidth - 48);
  }

  // uPlot's x scale ↔ the shared view. uPlot drag-zoom calls setScale; so does sync.
  function syncable(u, name) {
    listeners.push({
      from: name,
      fn: function (min, max) {
        u.setScale('x', { min: min, max: max });
      },
    });
  }
  function scaleHook(name) {
    return function (u, key) {
      if (key !== 'x' || syncing) return;
      var sc = u.scales.x;
      if (sc.min != null && sc.max != null) setView(sc.min, sc.max, name);
    };
  }

  var LAT_COLORS = {
    ok: ['#2f7fd0', '#1aa179', '#6b5bd6', '#0b5c99', '#3bb8d6'],
    fail: ['#e0569a', '#c2185b', '#f48fb1', '#ad1457', '#ff80ab'],
    info: ['#f08c00', '#d9480f', '#fab005', '#e67700', '#ffc078'],
  };

  function setupLatency() {
    var el = document.getElementById('latency');
    if (!el) return;
    // Ops sorted by invoke time (uPlot's x must ascend); one series per (f, outcome).
    var order = [];
    for (var i = 0; i < N; i++) if (E[i] !== null && O[i] !== 3) order.push(i);
    order.sort(function (a, b) { return S[a] - S[b]; });
    var xs = new Float64Array(order.length);
    var combos = {};
    var list = [];
    for (var j = 0; j < order.length; j++) {
      var p = order[j];
      xs[j] = S[p];
      var key = O[p] * 1000 + D.op.f[p];
      if (!(key in combos)) {
        combos[key] = list.length;
        list.push({ o: O[p], f: D.op.f[p], ys: null });
      }
    }
    list.sort(function (a, b) { return a.o - b.o || a.f - b.f; });
    list.forEach(function (s, idx) {
      combos[s.o * 1000 + s.f] = idx;
      s.ys = new Array(order.length).fill(null);
    });
    for (j = 0; j < order.length; j++) {
      p = order[j];
      list[combos[O[p] * 1000 + D.op.f[p]]].ys[j] = Math.max(1e-3, (E[p] - S[p]) * 1000);
    }
    var perOutcome = [0, 0, 0];
    var series = [{ label: 'time (s)', value: function (u, v) { return v == null ? '—' : v.toFixed(3) + ' s'; } }];
    list.forEach(function (s) {
      var palette = LAT_COLORS[OUTCOMES[s.o]];
      var c = palette[perOutcome[s.o]++ % palette.length];
      series.push({
        label: D.fs[s.f] + ' ' + OUTCOMES[s.o],
        stroke: c,
        fill: c,
        width: 0,
        paths: function () { return null; },
        points: { show: true, size: 3, width: 0, stroke: c, fill: c, space: 0 },
        value: function (u, v) { return v == null ? '—' : v.toFixed(2) + ' ms'; },
      });
    });
    var data = [Array.from(xs)].concat(list.map(function (s) { return s.ys; }));
    var u = new uPlot(
      {
        width: chartWidth(el),
        height: 320,
        scales: { x: { time: false, min: full.min, max: full.max, auto: false }, y: { distr: 3 } },
        series: series,
        axes: [{ label: 'time since start (s)' }, { label: 'latency (ms)', size: 60 }],
        cursor: { drag: { x: true, y: false }, points: { show: false } },
        legend: { live: false },
        hooks: { drawClear: [shadeFaults], setScale: [scaleHook('latency')] },
      },
      data,
      el,
    );
    syncable(u, 'latency');
    el.addEventListener('dblclick', function () { setView(full.min, full.max, null); });
    R.charts++;
    return u;
  }

  function setupThroughput() {
    var el = document.getElementById('throughput');
    if (!el || !D.throughput) return;
    var tp = D.throughput;
    var step = uPlot.paths.stepped({ align: 1 });
    var mk = function (label, color) {
      return { label: label, stroke: color, width: 1.5, paths: step, points: { show: false }, value: function (u, v) { return v == null ? '—' : v.toFixed(1) + '/s'; } };
    };
    var u = new uPlot(
      {
        width: chartWidth(el),
        height: 240,
        scales: { x: { time: false, min: full.min, max: full.max, auto: false } },
        series: [{ label: 'time (s)' }, mk('ok', '#2f7fd0'), mk('fail', '#e0569a'), mk('info', '#f08c00')],
        axes: [{ label: 'time since start (s)' }, { label: 'ops / s', size: 60 }],
        cursor: { drag: { x: true, y: false } },
        hooks: { drawClear: [shadeFaults], setScale: [scaleHook('throughput')] },
      },
      [tp.t, tp.ok, tp.fail, tp.info],
      el,
    );
    syncable(u, 'throughput');
    el.addEventListener('dblclick', function () { setView(full.min, full.max, null); });
    R.charts++;
    return u;
  }

  var t0 = performance.now();
  try {
    setupTimeline();
  } catch (e) {
    fail('timeline', e);
  }
  var charts = [];
  if (typeof uPlot === 'undefined') {
    if (document.getElementById('latency')) fail('latency', new Error('uPlot did not load'));
  } else {
    try {
      charts.push(setupLatency());
    } catch (e) {
      fail('latency', e);
    }
    try {
      charts.push(setupThroughput());
    } catch (e) {
      fail('throughput', e);
    }
  }
  window.addEventListener('resize', function () {
    charts.forEach(function (u) {
      if (u) u.setSize({ width: chartWidth(u.root.parentNode), height: u.height });
    });
  });
  R.setupMs = performance.now() - t0;
  R.ready = true;
  document.body.setAttribute('data-ready', 'true');
})();
