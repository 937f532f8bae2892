package org.outlierlab.jobs.metrics;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.outlierlab.dataprep.fs.WritableDirectory;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.outlierlab.dataprep.fs.FileLock;
import org.outlierlab.jobs.spark.JobDescription;
import org.outlierlab.jobs.spark.SparkSessions;
import org.outlierlab.jobs.sql.WarehouseViews;
import org.outlierlab.metrics.LayerStats;
import org.outlierlab.metrics.Requirement;
import org.outlierlab.metrics.Statistic;
import org.outlierlab.model.run.RunLayout;
import org.outlierlab.model.run.Snapshots;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * The metrics job: every snapshot row is folded, per (run, step, layer, site), into a mergeable
 * {@link LayerStats} on the executors (no executor holds a whole snapshot; cost grows linearly with tokens),
 * and the statistics are written in long format to {@code layer_metrics}, one partition per run, replaced on
 * rerun. Only the statistics of {@code metrics.stats} are computed and written: LayerStats allocates only their
 * accumulators, and the within-sequence, App D and attention stages run only for a statistic of theirs.
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
    Set<Statistic> stats = s.stats();
    Set<Statistic> layerStats = layerSelection(stats);
    boolean gram = layerStats.stream().anyMatch(m -> m.needs().contains(Requirement.FEATURE_GRAM));
    try (SparkSession spark = SparkSessions.open(s.spark(), "metrics")) {
      Configuration conf = spark.sparkContext().hadoopConfiguration();
      pinSplits(spark);
      WritableDirectory.require(new Path(s.warehouse()), "metrics.warehouse = '" + s.warehouse() + "'", conf);
      List<String> snapshotDirs = snapshotDirs(s.runs(), conf);
      LOG.info("metrics: {} runs: {}", snapshotDirs.size(), snapshotDirs);
      Snapshots.requireSchema(snapshotDirs, conf);
      Dataset<Row> snapshots = sample(spark.read().parquet(snapshotDirs.toArray(new String[0])), s.sampleFraction());
      SparkContext sc = spark.sparkContext();
      MetricRows rows = new MetricRows(stats);
      Map<SiteKey, Map<String, Double>> layers;
      long tokenRows;
      try (JobDescription described = JobDescription.of(sc, "metrics: aggregate " + snapshotDirs.size()
          + " runs' snapshots")) {
        long start = System.nanoTime();
        layers = layerStatistics(snapshots, sites, layerStats);
        double seconds = (System.nanoTime() - start) / 1e9;
        double tokens = layers.values().stream().mapToDouble(m -> m.get(Statistic.TOKENS.metric())).sum();
        LOG.info(String.format(java.util.Locale.ROOT, "metrics: aggregated %.0f token rows in %.2f s (%.0f rows/s%s)",
            tokens, seconds, tokens / seconds, gram ? ", with the feature Gram" : ""));
        tokenRows = Math.round(tokens);
      }
      layers.forEach(rows::addAll);
      Map<String, RunFacts> facts = RunFacts.of(snapshotDirs, conf);
      if (needs(stats, Requirement.SEQUENCE_BOUNDARIES)) {
        Map<String, Integer> seqLens = WithinSequence.seqLens(facts);
        try (JobDescription described = JobDescription.of(sc, "metrics: within-sequence similarity of "
            + seqLens.size() + " runs")) {
          WithinSequence.add(rows, snapshots, sites, seqLens, layers);
        }
      }
      if (needs(stats, Requirement.FIXED_PROBES)) {
        Set<String> fixed = new java.util.TreeSet<>();
        facts.forEach((run, f) -> {
          if (f.fixedProbe()) {
            fixed.add(run);
          }
        });
        try (JobDescription described = JobDescription.of(sc, "metrics: kurtosis-update decomposition of "
            + fixed.size() + " runs")) {
          KurtosisUpdates.add(rows, snapshots, sites, fixed);
        }
      }
      if (rows.selects(Statistic.ATTN_ENTROPY)) {
        try (JobDescription described = JobDescription.of(sc, "metrics: attention entropy")) {
          rows.addRows(Statistic.ATTN_ENTROPY, attentionEntropy(snapshots));
        }
      }
      spark.conf().set("spark.sql.sources.partitionOverwriteMode", "dynamic");
      // One writer at a time: two jobs replacing the same run's partition at once could leave it mixed.
      try (FileLock lock = FileLock.acquire(FileLock.beside(new Path(s.table())), "metrics writing " + s.table(), conf);
          JobDescription described = JobDescription.of(sc, "metrics: write " + rows.rows().size() + " rows to "
              + s.table())) {
        spark.createDataFrame(rows.rows(), SCHEMA).repartition(1).write().mode(SaveMode.Overwrite)
            .partitionBy("run_id").parquet(s.table());
        LOG.info("metrics: wrote {} rows to {}", rows.rows().size(), s.table());
        WarehouseViews.rewrite(s.warehouse(), "metrics.warehouse", conf);
      }
      return new MetricsResult(snapshotDirs, tokenRows, rows.rows().size(), s.table());
    }
  }

  /**
   * What LayerStats computes for the selection {@code stats}: its layer statistics, the RMS statistics the
   * within-sequence ones are scaled by, and always {@code tokens} (the job reports the rows it read).
   */
  static Set<Statistic> layerSelection(Set<Statistic> stats) {
    Set<Statistic> out = EnumSet.of(Statistic.TOKENS);
    for (Statistic m : stats) {
      if (m.layerStats()) {
        out.add(m);
      }
      m.scaledBy().ifPresent(out::add);
    }
    return out;
  }

  private static boolean needs(Set<Statistic> stats, Requirement requirement) {
    return stats.stream().anyMatch(m -> m.needs().contains(requirement));
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

  /**
   * Folds each (run, step, layer, site)'s token rows into one LayerStats of {@code stats}, then lists them. Each
   * input partition folds its rows in file order and the partitions' partials merge in partition order
   * ({@link OrderedMerge}); the partitions are a function of the snapshot files alone ({@link #pinSplits}).
   */
  static Map<SiteKey, Map<String, Double>> layerStatistics(Dataset<Row> snapshots, List<String> sites,
      Set<Statistic> stats) {
    Set<Statistic> selection = EnumSet.copyOf(stats); // serialisable with the closures below
    JavaPairRDD<SiteKey, Tuple2<Long, LayerStats>> partials = JavaPairRDD.fromJavaRDD(
        TokenRow.of(snapshots, snapshots.col("site").isin(sites.toArray())).mapPartitionsWithIndex((index, rows) -> {
          Map<SiteKey, LayerStats> folded = new java.util.LinkedHashMap<>();
          rows.forEachRemaining(r -> folded.computeIfAbsent(r.group(), k -> new LayerStats(r.values().length, selection))
              .add(r.values()));
          List<Tuple2<SiteKey, Tuple2<Long, LayerStats>>> out = new ArrayList<>();
          folded.forEach((k, v) -> out.add(new Tuple2<>(k, new Tuple2<>((long) index, v))));
          return out.iterator();
        }, false));
    Map<SiteKey, Map<String, Double>> out = new java.util.LinkedHashMap<>();
    OrderedMerge.byOrdinal(partials, LayerStats::merge)
        .mapValues(LayerStats::metrics)
        .collect()
        .forEach(e -> out.put(e._1(), e._2()));
    return out;
  }

  /**
   * Input partitions that depend only on the files read, not on the cluster: Spark sizes file splits by the
   * total size over the default parallelism (the cluster's cores) unless spark.sql.files.minPartitionNum is set;
   * it is set to 16 here unless the user set it. The split size then follows from the data (up to
   * spark.sql.files.maxPartitionBytes), and the same snapshots fold in the same partitions everywhere.
   */
  static void pinSplits(SparkSession spark) {
    if (!spark.conf().contains("spark.sql.files.minPartitionNum")) {
      spark.conf().set("spark.sql.files.minPartitionNum", "16");
    }
  }

  /** A (run, step, layer, site) group of snapshot rows. */
  record SiteKey(String runId, long step, int layer, String site) implements java.io.Serializable {}

  /** Mean attention entropy over heads, per (run, step, layer), from the attn_entropy snapshot rows. */
  static List<Row> attentionEntropy(Dataset<Row> snapshots) {
    return snapshots.filter("site = 'attn_entropy'")
        .selectExpr("run_id", "step", "layer", "'attn' AS site", "'" + Statistic.ATTN_ENTROPY.metric() + "' AS metric",
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
