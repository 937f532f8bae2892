package org.outlierlab.jobs.metrics;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.outlierlab.jobs.metrics.MetricsJob.SiteKey;
import org.outlierlab.metrics.SequencePairs;
import org.outlierlab.metrics.Statistic;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * {@code signal_prop_mean_seq} and {@code signal_prop_rms_seq}, and their {@code _width_centred} variants: the
 * input-wise similarity over pairs of tokens of the same probe sequence (token_index / seq_len), one sequence per
 * group so that cost is O(N·T·d) and a task holds one sequence; scaled by each group's act_rms (or
 * act_rms_width_centred). Runs whose seq_len is not known (written before config.conf recorded it) are skipped.
 */
final class WithinSequence {
  private static final Logger LOG = LoggerFactory.getLogger(MetricsJob.class);
  static final List<Statistic> STATISTICS = List.of(Statistic.SIGNAL_PROP_MEAN_SEQ, Statistic.SIGNAL_PROP_RMS_SEQ,
      Statistic.SIGNAL_PROP_MEAN_SEQ_WIDTH_CENTRED, Statistic.SIGNAL_PROP_RMS_SEQ_WIDTH_CENTRED);

  private WithinSequence() {}

  /** The runs whose seq_len is known, with it; a warning names each of the others. */
  static Map<String, Integer> seqLens(Map<String, RunFacts> facts) {
    Map<String, Integer> seqLens = new HashMap<>();
    facts.forEach((run, f) -> {
      if (f.seqLen() != null) {
        seqLens.put(run, f.seqLen());
      } else {
        LOG.warn("metrics: run {} does not record its seq_len; no within-sequence statistics for it", run);
      }
    });
    return seqLens;
  }

  /** Adds the selected within-sequence statistics, scaled by {@code layers}' RMS statistics, to {@code out}. */
  static void add(MetricRows out, Dataset<Row> snapshots, List<String> sites, Map<String, Integer> seqLens,
      Map<SiteKey, Map<String, Double>> layers) {
    Map<String, Integer> lengths = Map.copyOf(seqLens);
    // one sequence per group, its rows in token order; the sequences merged in sequence order (OrderedMerge)
    var perSequence = TokenRow.of(snapshots, snapshots.col("site").isin(sites.toArray())
            .and(snapshots.col("run_id").isin(lengths.keySet().toArray())))
        .mapToPair(r -> new Tuple2<>(new Tuple2<>(r.group(), r.tokenIndex() / lengths.get(r.runId())),
            new Tuple2<>(r.tokenIndex(), r.values())))
        .groupByKey()
        .mapToPair(g -> {
          List<float[]> rows = new ArrayList<>();
          OrderedMerge.byTokenIndex(g._2()).forEach(r -> rows.add(r._2()));
          return new Tuple2<>(g._1()._1(), new Tuple2<>((long) g._1()._2(), SequencePairs.of(rows)));
        });
    List<Tuple2<SiteKey, SequencePairs>> pairs = OrderedMerge.byOrdinal(perSequence, SequencePairs::merge).collect();
    for (Tuple2<SiteKey, SequencePairs> p : pairs) {
      SiteKey k = p._1();
      SequencePairs s = p._2();
      Map<String, Double> layer = layers.get(k);
      if (layer == null || s.pairs() == 0) {
        continue;
      }
      for (Statistic stat : STATISTICS) {
        if (out.selects(stat)) {
          double scale = layer.get(stat.scaledBy().orElseThrow().metric());
          out.add(k, stat, switch (stat) {
            case SIGNAL_PROP_MEAN_SEQ -> s.mean(scale);
            case SIGNAL_PROP_RMS_SEQ -> s.rms(scale);
            case SIGNAL_PROP_MEAN_SEQ_WIDTH_CENTRED -> s.meanWidthCentred(scale);
            default -> s.rmsWidthCentred(scale);
          });
        }
      }
    }
  }
}
