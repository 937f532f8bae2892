package org.outlierlab.jobs.metrics;

import com.typesafe.config.Config;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.outlierlab.jobs.spark.JobDescription;
import org.outlierlab.jobs.spark.SparkSessions;
import org.outlierlab.jobs.sql.WarehouseViews;
import org.outlierlab.metrics.KurtosisUpdate;
import org.outlierlab.metrics.LayerStats;
import org.outlierlab.metrics.SequencePairs;
import org.outlierlab.model.run.RunLayout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * The metrics job: every snapshot row is folded, per (run, step, layer, site), into a mergeable
 * {@link LayerStats} on the executors (no executor holds a whole snapshot; cost grows linearly with tokens),
 * and the statistics are written in long format to {@code layer_metrics}, one partition per run, replaced on
 * rerun.
 */
public final class MetricsJob {
  private static final Logger LOG = LoggerFactory.getLogger(MetricsJob.class);
  public static final String SECTION = "metrics";
  public static final StructType SCHEMA = new StructType()
      .add("run_id", DataTypes.StringType, false)
      .add("step", DataTypes.LongType, false)
      .add("layer", DataTypes.IntegerType, false)
      .add("site", DataTypes.StringType, false)
      .add("metric", DataTypes.StringType, false)
      .add("value", DataTypes.DoubleType, false);

  private MetricsJob() {}

  public static MetricsResult run(MetricsJobSettings s) throws IOException {
    List<String> sites = s.sites();
    boolean gram = s.gram();
    try (SparkSession spark = SparkSessions.open(s.spark(), "metrics")) {
      Configuration conf = spark.sparkContext().hadoopConfiguration();
      List<String> snapshotDirs = snapshotDirs(s.runs(), conf);
      LOG.info("metrics: {} runs: {}", snapshotDirs.size(), snapshotDirs);
      Dataset<Row> snapshots = sample(spark.read().parquet(snapshotDirs.toArray(new String[0])), s.sampleFraction());
      SparkContext sc = spark.sparkContext();
      List<Row> rows;
      long tokenRows;
      try (JobDescription described = JobDescription.of(sc, "metrics: aggregate " + snapshotDirs.size()
          + " runs' snapshots")) {
        long start = System.nanoTime();
        rows = new ArrayList<>(layerStatistics(snapshots, sites, gram));
        double seconds = (System.nanoTime() - start) / 1e9;
        double tokens = rows.stream().filter(r -> r.getString(4).equals("tokens")).mapToDouble(r -> r.getDouble(5)).sum();
        LOG.info(String.format(java.util.Locale.ROOT, "metrics: aggregated %.0f token rows in %.2f s (%.0f rows/s%s)",
            tokens, seconds, tokens / seconds, gram ? ", with the feature Gram" : ""));
        tokenRows = Math.round(tokens);
      }
      Map<String, RunFacts> facts = runFacts(snapshotDirs, conf);
      Map<String, Integer> seqLens = new java.util.HashMap<>();
      facts.forEach((run, f) -> {
        if (f.seqLen() != null) {
          seqLens.put(run, f.seqLen());
        }
      });
      try (JobDescription described = JobDescription.of(sc, "metrics: within-sequence similarity of " + seqLens.size()
          + " runs")) {
        rows.addAll(withinSequence(snapshots, sites, seqLens, rows));
      }
      Set<String> fixed = new java.util.TreeSet<>();
      facts.forEach((run, f) -> {
        if (f.fixedProbe()) {
          fixed.add(run);
        }
      });
      try (JobDescription described = JobDescription.of(sc, "metrics: kurtosis-update decomposition of " + fixed.size()
          + " runs")) {
        rows.addAll(kurtosisUpdates(snapshots, sites, fixed));
      }
      try (JobDescription described = JobDescription.of(sc, "metrics: attention entropy")) {
        rows.addAll(attentionEntropy(snapshots));
      }
      spark.conf().set("spark.sql.sources.partitionOverwriteMode", "dynamic");
      try (JobDescription described = JobDescription.of(sc, "metrics: write " + rows.size() + " rows to "
          + s.table())) {
        spark.createDataFrame(rows, SCHEMA).repartition(1).write().mode(SaveMode.Overwrite).partitionBy("run_id")
            .parquet(s.table());
      }
      LOG.info("metrics: wrote {} rows to {}", rows.size(), s.table());
      WarehouseViews.rewrite(s.warehouse(), "metrics.warehouse", conf);
      return new MetricsResult(snapshotDirs, tokenRows, rows.size(), s.table());
    }
  }

  /**
   * The token rows to aggregate: all of them, or a subset of about {@code fraction} chosen by a hash of (run,
   * token_index), so that the same probe tokens are kept at every step, layer and site (the App D pairs and
   * the within-sequence pairs stay aligned). Attention-entropy rows are always kept.
   */
  static Dataset<Row> sample(Dataset<Row> snapshots, double fraction) {
    if (fraction >= 1) {
      return snapshots;
    }
    long keep = Math.round(fraction * 1_000_000);
    return snapshots.filter("site = 'attn_entropy' OR pmod(xxhash64(run_id, token_index), 1000000) < " + keep);
  }

  /** Folds each (run, step, layer, site)'s token rows into one LayerStats, then lists its statistics. */
  static List<Row> layerStatistics(Dataset<Row> snapshots, List<String> sites, boolean gram) {
    JavaPairRDD<SiteKey, float[]> keyed = TokenRow.of(snapshots, snapshots.col("site").isin(sites.toArray()))
        .mapToPair(r -> new Tuple2<>(r.group(), r.values()));
    return keyed.combineByKey(
            v -> {
              LayerStats s = new LayerStats(v.length, gram);
              s.add(v);
              return s;
            },
            (s, v) -> {
              s.add(v);
              return s;
            },
            LayerStats::merge)
        .flatMap(e -> {
          List<Row> out = new ArrayList<>();
          SiteKey k = e._1();
          for (Map.Entry<String, Double> m : e._2().metrics().entrySet()) {
            out.add(RowFactory.create(k.runId(), k.step(), k.layer(), k.site(), m.getKey(), m.getValue()));
          }
          return out.iterator();
        })
        .collect();
  }

  /** A (run, step, layer, site) group of snapshot rows. */
  record SiteKey(String runId, long step, int layer, String site) implements java.io.Serializable {}

  /**
   * {@code signal_prop_mean_seq} and {@code signal_prop_rms_seq}, and their {@code _width_centred} variants: the
   * input-wise similarity over pairs of tokens of the same probe sequence (token_index / seq_len), one sequence
   * per group so that cost is O(N·T·d) and a task holds one sequence; scaled by each group's act_rms (or
   * act_rms_width_centred) from {@code layerRows}. Runs whose seq_len is not known (written before config.conf
   * recorded it) are skipped.
   */
  static List<Row> withinSequence(Dataset<Row> snapshots, List<String> sites, Map<String, Integer> seqLens,
      List<Row> layerRows) {
    Map<SiteKey, Double> actRms = metricBySite(layerRows, "act_rms");
    Map<SiteKey, Double> actRmsWidthCentred = metricBySite(layerRows, "act_rms_width_centred");
    Map<String, Integer> lengths = Map.copyOf(seqLens);
    var pairs = TokenRow.of(snapshots, snapshots.col("site").isin(sites.toArray())
            .and(snapshots.col("run_id").isin(lengths.keySet().toArray())))
        .mapToPair(r -> new Tuple2<>(new Tuple2<>(r.group(), r.tokenIndex() / lengths.get(r.runId())), r.values()))
        .groupByKey()
        .mapToPair(g -> {
          List<float[]> rows = new ArrayList<>();
          g._2().forEach(rows::add);
          return new Tuple2<>(g._1()._1(), SequencePairs.of(rows));
        })
        .reduceByKey(SequencePairs::merge)
        .collect();
    List<Row> out = new ArrayList<>();
    for (Tuple2<SiteKey, SequencePairs> p : pairs) {
      SiteKey k = p._1();
      SequencePairs s = p._2();
      Double r = actRms.get(k);
      Double rc = actRmsWidthCentred.get(k);
      if (r == null || s.pairs() == 0) {
        continue;
      }
      out.add(RowFactory.create(k.runId(), k.step(), k.layer(), k.site(), "signal_prop_mean_seq", s.mean(r)));
      out.add(RowFactory.create(k.runId(), k.step(), k.layer(), k.site(), "signal_prop_rms_seq", s.rms(r)));
      out.add(RowFactory.create(k.runId(), k.step(), k.layer(), k.site(), "signal_prop_mean_seq_width_centred",
          s.meanWidthCentred(rc)));
      out.add(RowFactory.create(k.runId(), k.step(), k.layer(), k.site(), "signal_prop_rms_seq_width_centred",
          s.rmsWidthCentred(rc)));
    }
    return out;
  }

  /** One metric's value per (run, step, layer, site), from the layer statistics' rows. */
  private static Map<SiteKey, Double> metricBySite(List<Row> layerRows, String metric) {
    Map<SiteKey, Double> values = new java.util.HashMap<>();
    for (Row r : layerRows) {
      if (r.getString(4).equals(metric)) {
        values.put(new SiteKey(r.getString(0), r.getLong(1), r.getInt(2), r.getString(3)), r.getDouble(5));
      }
    }
    return values;
  }

  /** What the metrics need to know of a run from its config.conf: seq_len (null if not recorded), fixed probes. */
  record RunFacts(Integer seqLen, boolean fixedProbe) implements java.io.Serializable {}

  /** Each run's facts, by run_id (the run directory's name); runs without a config.conf are left out. */
  static Map<String, RunFacts> runFacts(List<String> snapshotDirs, Configuration conf) throws IOException {
    Map<String, RunFacts> out = new java.util.LinkedHashMap<>();
    for (String dir : snapshotDirs) {
      Path run = new Path(dir).getParent();
      Path file = new RunLayout(run.toString()).config();
      FileSystem fs = file.getFileSystem(conf);
      if (!fs.exists(file)) {
        continue;
      }
      try (var in = new java.io.InputStreamReader(fs.open(file), java.nio.charset.StandardCharsets.UTF_8)) {
        Config runConfig = com.typesafe.config.ConfigFactory.parseReader(in);
        boolean known = runConfig.hasPath("model.seq_len")
            && runConfig.getValue("model.seq_len").valueType() == com.typesafe.config.ConfigValueType.NUMBER;
        if (!known) {
          LOG.warn("metrics: run {} does not record its seq_len; no within-sequence statistics for it", run.getName());
        }
        boolean fixed = runConfig.hasPath("train.probe_inputs") && runConfig.getString("train.probe_inputs").equals("fixed");
        out.put(run.getName(), new RunFacts(known ? runConfig.getInt("model.seq_len") : null, fixed));
      }
    }
    return out;
  }

  /**
   * App D (SCIENCE.md §4), per training step, for runs whose snapshots hold fixed probe inputs: each token row at step t is
   * paired with the same token's row at step t + 1, and the pairs are folded per (run, t, layer, site) into a
   * {@link KurtosisUpdate}. Rows: u2_1 … u4_4 at step t (the change made by step t + 1) and their running sums over
   * the run's one-step pairs ({@code u2_1_cum} …). The terms are orders in one step's size, so snapshot steps
   * further apart are not paired: they are counted and warned about, never reported as per-step terms.
   */
  static List<Row> kurtosisUpdates(Dataset<Row> snapshots, List<String> sites, Set<String> fixedProbeRuns) {
    if (fixedProbeRuns.isEmpty()) {
      return List.of();
    }
    var filter = snapshots.col("site").isin(sites.toArray()).and(snapshots.col("run_id").isin(fixedProbeRuns.toArray()));
    Map<String, Set<Long>> afterOneStep = new java.util.HashMap<>(); // run -> steps whose step − 1 has a snapshot too
    Map<String, Long> gaps = new java.util.TreeMap<>(); // run -> consecutive snapshots more than one step apart
    Map<String, Long> lastStep = new java.util.HashMap<>();
    for (Row r : snapshots.filter(filter).select("run_id", "step").distinct().orderBy("run_id", "step").collectAsList()) {
      String run = r.getString(0);
      long step = r.getLong(1);
      Set<Long> paired = afterOneStep.computeIfAbsent(run, k -> new java.util.HashSet<>());
      Long last = lastStep.put(run, step);
      if (last != null && step == last + 1) {
        paired.add(step);
      } else if (last != null) {
        gaps.merge(run, 1L, Long::sum);
      }
    }
    gaps.forEach((run, n) -> LOG.warn("metrics: run {} has fixed-probe snapshots {} time(s) more than one step apart; "
        + "the App D terms (u2_1 ... u4_4) are per training step, so those pairs are skipped. Snapshot every step "
        + "of the studied window (train.snapshot_window, as conf/paper/appendix-d.conf does)", run, n));
    Map<String, Set<Long>> paired = Map.copyOf(afterOneStep);
    JavaRDD<TokenRow> rows = TokenRow.of(snapshots, filter);
    var at = rows.mapToPair(r -> new Tuple2<>(new TokenKey(r.runId(), r.step(), r.layer(), r.site(),
        r.tokenIndex()), r.values()));
    var next = rows.filter(r -> paired.get(r.runId()).contains(r.step()))
        .mapToPair(r -> new Tuple2<>(new TokenKey(r.runId(), r.step() - 1, r.layer(), r.site(), r.tokenIndex()),
            r.values()));
    List<Tuple2<SiteKey, KurtosisUpdate>> updates = at.join(next)
        .mapToPair(e -> new Tuple2<>(e._1().group(), e._2()))
        .combineByKey(
            v -> {
              KurtosisUpdate u = new KurtosisUpdate(v._1().length);
              u.add(v._1(), v._2());
              return u;
            },
            (u, v) -> {
              u.add(v._1(), v._2());
              return u;
            },
            KurtosisUpdate::merge)
        .collect();
    List<Tuple2<SiteKey, KurtosisUpdate>> ordered = new ArrayList<>(updates);
    ordered.sort(java.util.Comparator.comparing((Tuple2<SiteKey, KurtosisUpdate> e) -> e._1().runId())
        .thenComparing(e -> e._1().site()).thenComparingInt(e -> e._1().layer()).thenComparingLong(e -> e._1().step()));
    List<Row> out = new ArrayList<>();
    Map<String, Double> cumulative = new java.util.HashMap<>();
    for (Tuple2<SiteKey, KurtosisUpdate> e : ordered) {
      SiteKey k = e._1();
      for (Map.Entry<String, Double> term : e._2().terms().entrySet()) {
        if (!term.getKey().startsWith("u")) {
          continue; // m2 and m4 are the kurtosis metric's own parts
        }
        String series = k.runId() + "/" + k.site() + "/" + k.layer() + "/" + term.getKey();
        double sum = cumulative.merge(series, term.getValue(), Double::sum);
        out.add(RowFactory.create(k.runId(), k.step(), k.layer(), k.site(), term.getKey(), term.getValue()));
        out.add(RowFactory.create(k.runId(), k.step(), k.layer(), k.site(), term.getKey() + "_cum", sum));
      }
    }
    return out;
  }

  /** One token of one snapshot. */
  record TokenKey(String runId, long step, int layer, String site, int tokenIndex) implements java.io.Serializable {
    SiteKey group() {
      return new SiteKey(runId, step, layer, site);
    }
  }

  /** Mean attention entropy over heads, per (run, step, layer), from the attn_entropy snapshot rows. */
  static List<Row> attentionEntropy(Dataset<Row> snapshots) {
    return snapshots.filter("site = 'attn_entropy'")
        .selectExpr("run_id", "step", "layer", "'attn' AS site", "'attn_entropy' AS metric",
            "CAST(aggregate(values, 0D, (a, v) -> a + v) / size(values) AS DOUBLE) AS value")
        .collectAsList();
  }

  /** Each entry's snapshots directory: a run directory itself, or every run of a warehouse. */
  static List<String> snapshotDirs(List<String> runs, Configuration conf) throws IOException {
    List<String> dirs = new ArrayList<>();
    for (String run : runs) {
      Path path = new Path(run);
      FileSystem fs = path.getFileSystem(conf);
      Path snapshots = new RunLayout(run).snapshots();
      if (fs.exists(snapshots)) {
        dirs.add(snapshots.toString());
      } else if (fs.exists(RunLayout.runs(run))) {
        dirs.addAll(WarehouseViews.runTables(run, RunLayout.SNAPSHOTS, conf));
      } else {
        throw new FileNotFoundException("metrics.runs: '" + run + "' is neither a run directory (with snapshots/) "
            + "nor a warehouse (with runs/)");
      }
    }
    if (dirs.isEmpty()) {
      throw new FileNotFoundException("metrics.runs " + runs + " hold no snapshots; train with snapshots first");
    }
    return dirs;
  }
}
