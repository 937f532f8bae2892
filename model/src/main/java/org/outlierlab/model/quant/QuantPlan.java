package org.outlierlab.model.quant;

import java.io.Serializable;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.nd4j.autodiff.samediff.SDVariable;
import org.outlierlab.model.graph.SiteTransforms;

/**
 * A protocol made concrete for one model: the quantiser at each of its sites, in graph order, with every static range
 * already calibrated. It is serialisable, so that a Spark driver calibrates once and every worker builds the same
 * quantised network from it ({@link #transforms}).
 */
public record QuantPlan(Protocol protocol, Map<String, Quantizer> bySite) implements Serializable {
  public QuantPlan {
    bySite = Collections.unmodifiableMap(new LinkedHashMap<>(bySite));
  }

  /** The site transforms that fake-quantise the model's graph as planned. */
  public SiteTransforms transforms() {
    Map<String, UnaryOperator<SDVariable>> transforms = new LinkedHashMap<>();
    bySite.forEach((site, q) -> transforms.put(site, q::apply));
    return SiteTransforms.of(transforms);
  }
}
