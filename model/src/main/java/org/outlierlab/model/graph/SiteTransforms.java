package org.outlierlab.model.graph;

import java.util.Collection;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import org.nd4j.autodiff.samediff.SDVariable;

/**
 * Transforms of {@link Site}s, applied as the graph is built: each replaces its site's tensor by a function of it
 * (an int8 fake-quantiser: {@code x -> fakeQuant(x)}), and the rest of the network uses the result. Sites without one
 * are left as they are, so {@link #NONE} builds the plain network. A model's replicas are built with the same
 * transforms.
 */
public final class SiteTransforms {
  public static final SiteTransforms NONE = new SiteTransforms(Map.of());

  private final Map<String, UnaryOperator<SDVariable>> bySite;

  private SiteTransforms(Map<String, UnaryOperator<SDVariable>> bySite) {
    this.bySite = Map.copyOf(bySite);
  }

  /** A transform per site name; the ops a transform adds go into the site's graph ({@code x.getSameDiff()}). */
  public static SiteTransforms of(Map<String, UnaryOperator<SDVariable>> bySite) {
    return new SiteTransforms(bySite);
  }

  /** The tensor the network uses at {@code site}: x, or its transform. */
  SDVariable apply(String site, SDVariable x) {
    UnaryOperator<SDVariable> transform = bySite.get(site);
    return transform == null ? x : transform.apply(x);
  }

  /** Fails unless every site given a transform is one of {@code sites}. */
  void requireAmong(Collection<String> sites) {
    TreeSet<String> unknown = new TreeSet<>(bySite.keySet());
    unknown.removeAll(sites);
    if (!unknown.isEmpty()) {
      throw new IllegalArgumentException("transforms for sites this model lacks: " + unknown + "; sites: " + sites);
    }
  }
}
