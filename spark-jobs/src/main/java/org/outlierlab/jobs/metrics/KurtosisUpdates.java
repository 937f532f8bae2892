package org.outlierlab.jobs.metrics;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.outlierlab.jobs.metrics.MetricsJob.SiteKey;
import org.outlierlab.metrics.KurtosisUpdate;
import org.outlierlab.metrics.Statistic;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * App D (SCIENCE.md §4), per training step, for runs whose snapshots hold fixed probe inputs: each token row at step
 * t is paired with the same token's row at step t + 1, and the pairs are folded per (run, t, layer, site) into a
 * {@link KurtosisUpdate}. Rows: u2_1 … u4_4 at step t (the change made by step t + 1) and their running sums over
 * the run's one-step pairs ({@code u2_1_cum} …). The terms are orders in one step's size, so snapshot steps
 * further apart are not paired: they are counted and warned about, never reported as per-step terms.
 */
final class KurtosisUpdates {
  private static final Logger LOG = LoggerFactory.getLogger(MetricsJob.class);

  /** Token indices per chunk: a task holds one chunk's pairs of rows. */
  private static final int CHUNK = 256;

  private KurtosisUpdates() {}

  /** Adds the selected terms and running sums of the runs in {@code fixedProbeRuns} to {@code out}. */
  static void add(MetricRows out, Dataset<Row> snapshots, List<String> sites, Set<String> fixedProbeRuns) {
    if (fixedProbeRuns.isEmpty()) {
      return;
    }
    var filter = snapshots.col("site").isin(sites.toArray()).and(snapshots.col("run_id").isin(fixedProbeRuns.toArray()));
    Map<String, Set<Long>> afterOneStep = new HashMap<>(); // run -> steps whose step − 1 has a snapshot too
    Map<String, Long> gaps = new TreeMap<>(); // run -> consecutive snapshots more than one step apart
    Map<String, Long> lastStep = new HashMap<>();
    for (Row r : snapshots.filter(filter).select("run_id", "step").distinct().orderBy("run_id", "step").collectAsList()) {
      String run = r.getString(0);
      long step = r.getLong(1);
      Set<Long> paired = afterOneStep.computeIfAbsent(run, k -> new HashSet<>());
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
    // folded in token order within chunks of CHUNK token indices, the chunks merged in order (OrderedMerge)
    var perChunk = at.join(next)
        .mapToPair(e -> new Tuple2<>(new Tuple2<>(e._1().group(), e._1().tokenIndex() / CHUNK),
            new Tuple2<>(e._1().tokenIndex(), e._2())))
        .groupByKey()
        .mapToPair(g -> {
          List<Tuple2<Integer, Tuple2<float[], float[]>>> pairs = OrderedMerge.byTokenIndex(g._2());
          KurtosisUpdate u = new KurtosisUpdate(pairs.get(0)._2()._1().length);
          pairs.forEach(r -> u.add(r._2()._1(), r._2()._2()));
          return new Tuple2<>(g._1()._1(), new Tuple2<>((long) g._1()._2(), u));
        });
    List<Tuple2<SiteKey, KurtosisUpdate>> updates = OrderedMerge.byOrdinal(perChunk, KurtosisUpdate::merge).collect();
    List<Tuple2<SiteKey, KurtosisUpdate>> ordered = new ArrayList<>(updates);
    ordered.sort(Comparator.comparing((Tuple2<SiteKey, KurtosisUpdate> e) -> e._1().runId())
        .thenComparing(e -> e._1().site()).thenComparingInt(e -> e._1().layer()).thenComparingLong(e -> e._1().step()));
    Map<String, Double> cumulative = new HashMap<>();
    for (Tuple2<SiteKey, KurtosisUpdate> e : ordered) {
      SiteKey k = e._1();
      Map<String, Double> terms = e._2().terms();
      for (Statistic term : KurtosisUpdate.TERMS) {
        double value = terms.get(term.metric());
        String series = k.runId() + "/" + k.site() + "/" + k.layer() + "/" + term.metric();
        double sum = cumulative.merge(series, value, Double::sum);
        out.add(k, term, value);
        out.add(k, term.runningSum(), sum);
      }
    }
  }

  /** One token of one snapshot. */
  record TokenKey(String runId, long step, int layer, String site, int tokenIndex) implements java.io.Serializable {
    SiteKey group() {
      return new SiteKey(runId, step, layer, site);
    }
  }
}
