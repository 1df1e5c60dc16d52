"""Chemical class of a mineral from its RRUFF ``IDEAL CHEMISTRY`` formula."""

import re

__all__ = ["ANION_GROUPS", "anion_group", "formula_elements"]

ANION_GROUPS = (
    "silicate",
    "borate",
    "phosphate",
    "sulfate",
    "carbonate",
    "oxide",
    "non-oxide",
)

# Markup of RRUFF formulas: charges (^2+^), vacancies ([box]), site sums,
# and REE (rare-earth elements, unspecified; "R" is no element symbol, so
# REE needs no word boundary: Ca_2_REE_2_...).
_MARKUP = re.compile(r"\^[^^]*\^|\[box\]|Σ=[0-9.]+|REE")
# An element with its charge: Cr^3+^, N^3-^, S^2-^ ...
_CHARGED = re.compile(r"([A-Z][a-z]?)\^([0-9]*)([+-])\^")
# Oxygen in hydroxyl or water only: OH, (OH), H_2_O, H2O
_HYDROXYL_OR_WATER = re.compile(r"OH|H_?2_?O")
_HALOGENS = frozenset({"F", "Cl", "Br", "I"})
# Elements that make an oxyanion only at their highest valence: Cr^3+^ in
# chromite or V^3+^ in karelianite sits in an oxide.
_OXYANION_VALENCE = {"Cr": 6, "V": 5, "Mo": 6, "W": 6}
# Where a formula gives the charge, these make their class's oxyanion only at
# this valence: arsenites (As^3+^), sulfites (S^4+^), selenites (Se^4+^) and
# tellurites (Te^4+^) are oxides in Strunz's classes (4.J), not arsenates or
# sulfates.
_ANION_AT = {"As": 5, "S": 6, "Se": 6, "Te": 6}
# ... and are written next to the oxygen of their oxyanion: CrO_4_, V_2_O_7_,
# V^5+^O_4_ (not Mg_6_Cr_2_CO_3_..., a carbonate)
_BOUND_TO_OXYGEN = re.compile(r"(Cr|V|Mo|W)(?:\^[^^]*\^)?(?:_[0-9.]+_)?O")
# ... or in a site they share with other oxyanion formers only, next to the
# oxygen: (Mo,W)O_4_, (Cr^6+^,V^5+^)O_4_ (not (Al,Cr)_2_O_4_ of a spinel)
_SHARED_SITE = re.compile(
    r"\(([A-Z][a-z]?(?:\^[^^]*\^)?(?:,[A-Z][a-z]?(?:\^[^^]*\^)?)+)\)(?:_[0-9.]+_)?O"
)
_FORMERS = frozenset({"Si", "B", "P", "As", "V", "S", "Se", "Te", "Cr", "Mo", "W"})
# Binary oxides of oxyanion formers: with no other cation to balance an
# oxyanion, they are oxides (MoO_3_, Cr_2_O_3_, As_2_O_3_, TeO_2_, SeO_2_)
_BINARY_OXIDE = frozenset({"Cr", "V", "Mo", "W", "As", "Se", "Te"})
_ELEMENT = re.compile(r"[A-Z][a-z]?")
_KNOWN = frozenset(
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni "
    "Cu Zn Ga Ge As Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I "
    "Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt "
    "Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu".split()
)


def formula_elements(formula):
    """Return the set of chemical elements named in a RRUFF formula.

    RRUFF writes subscripts between underscores (``Mg_2_SiO_4_``), charges
    between carets (``Fe^3+^``) and vacancies as ``[box]``; those are
    ignored, and so is ``REE`` (rare-earth elements, unspecified).

    Parameters
    ----------
    formula : str
        The ``IDEAL CHEMISTRY`` of a RRUFF file, or any chemical formula.

    Returns
    -------
    elements : set of str
        The element symbols in the formula.

    Raises
    ------
    TypeError
        If ``formula`` is not a string.
    ValueError
        If the formula names no element, or a symbol that is not an element.

    Examples
    --------
    >>> sorted(formula_elements("CaMn^2+^Si_2_O_6_"))
    ['Ca', 'Mn', 'O', 'Si']
    """
    if not isinstance(formula, str):
        raise TypeError(f"formula must be a string; got {type(formula).__name__}.")
    symbols = _ELEMENT.findall(_MARKUP.sub(" ", formula))
    unknown = sorted(set(symbols) - _KNOWN)
    if unknown:
        raise ValueError(f"Formula {formula!r} names unknown element(s) {unknown}.")
    if not symbols:
        raise ValueError(f"Formula {formula!r} names no chemical element.")
    return set(symbols)


def _anion_markers(formula, elements):
    """Return the elements of ``formula`` that can form its oxyanion.

    An element the formula gives a negative charge (S^2-^ of a sulfide,
    N^3-^ of ammonium) is an anion itself, not the centre of an oxyanion;
    nor are Cr, V, Mo and W given a charge below their highest valence or
    not written next to oxygen, nor Cr, V, Mo, W, As, Se and Te when they are
    the only elements besides oxygen and hydrogen.
    """
    markers = set(elements)
    if elements - {"O", "H"} <= _BINARY_OXIDE:
        # no other cation to balance an oxyanion: MoO_3_, As_2_O_3_, WO_3_·H_2_O
        markers -= _BINARY_OXIDE
    bound = set(_BOUND_TO_OXYGEN.findall(formula))
    for site in _SHARED_SITE.findall(formula):
        members = set(_ELEMENT.findall(_MARKUP.sub(" ", site)))
        if members <= _FORMERS:
            bound |= members
    markers -= _OXYANION_VALENCE.keys() - bound
    # an element whose every written charge is negative, or below the
    # valence of its oxyanion, makes none: S^2-^ of a sulfide, Cr^3+^ of
    # chromite, As^3+^ of an arsenite (an oxide in Strunz's classes)
    highest = {}
    for element, size, sign in _CHARGED.findall(formula):
        charge = int(size or 1) * (1 if sign == "+" else -1)
        highest[element] = max(charge, highest.get(element, charge))
    for element, charge in highest.items():
        valence = max(_OXYANION_VALENCE.get(element, 0), _ANION_AT.get(element, 0))
        if charge < 0 or charge < valence:
            markers.discard(element)
    return markers


def anion_group(formula):
    """Chemical class (anion group) of a mineral from its formula.

    The seven classes follow the main divisions of mineral systematics
    (Strunz), merged where few minerals would be left in a class. Oxygen
    must be present for every class but ``"non-oxide"``, and the first rule
    that matches wins:

    1. ``"silicate"``: Si (so borosilicates and phosphosilicates are
       silicates);
    2. ``"borate"``: B;
    3. ``"phosphate"``: P, As or V (phosphates, arsenates, vanadates);
    4. ``"sulfate"``: S, Se, Te, Cr, Mo or W (sulfates, selenates, tellurates,
       chromates, molybdates, tungstates);
    5. ``"carbonate"``: C or N (carbonates and nitrates);
    6. ``"oxide"``: any other oxygen-bearing mineral (oxides, hydroxides),
       except that
    7. ``"non-oxide"``: no oxygen (sulfides, halides, native elements...),
       or an anion without oxygen with oxygen only in hydroxyl or water:
       a halogen (F, Cl, Br, I; hydroxyhalides such as atacamite, hydrated
       halides such as bischofite) or an element the formula gives a
       negative charge other than N^3-^ of ammonium (hydrated sulfides
       such as erdite, ``NaFe^3+^S^2-^_2_·2H_2_O``). Strunz counts them
       among the halides and the sulfides.

    An element counts for rules 1-5 unless the formula gives its charge
    and every charge it gives rules out the oxyanion: a negative one
    (``S^2-^`` of a sulfide, ``N^3-^`` of ammonium), Cr, V, Mo or W below
    their highest valence (``Cr^3+^`` of chromite and ``V^3+^`` of
    karelianite: oxides), or As below 5+ and S, Se or Te below 6+
    (arsenites, sulfites, selenites and tellurites such as chalcomenite,
    ``Cu^2+^Se^4+^O_3_·2H_2_O``, are oxides in Strunz's class 4.J).
    Nor do Cr, V, Mo and W count when the formula does not write them next
    to oxygen, as their oxyanions are written (``CrO_4_``, ``V_2_O_7_``, or
    a site shared with other such elements only, ``Ca(Mo,W)O_4_``;
    stichtite, ``Mg_6_Cr_2_CO_3_(OH)_16_·4H_2_O``, is a carbonate, and a
    spinel's ``(Al,Cr)_2_O_4_`` is no chromate). Cr, V, Mo, W, As, Se and Te
    do not count when they are the only elements besides oxygen and
    hydrogen (eskolaite ``Cr_2_O_3_``, molybdite ``MoO_3_``, arsenolite
    ``As_2_O_3_``, tellurite ``TeO_2_``: oxides). An oxide written like an
    oxyanion salt and without charges (chromite as ``FeCr_2_O_4_``) is
    misread: write the charges (``Fe^2+^Cr^3+^_2_O_4_``) when they matter;
    so is a hydrated sulfide without them (erdite as ``NaFeS_2_·2H_2_O``
    is a sulfate).
    Oxyhalides with oxide oxygen (mendipite, ``Pb_3_O_2_Cl_2_``) stay
    oxides.

    Parameters
    ----------
    formula : str
        A RRUFF ``IDEAL CHEMISTRY`` formula (``load_rruff`` returns it in
        ``metadata["ideal_chemistry"]``).

    Returns
    -------
    group : str
        One of ``"silicate"``, ``"borate"``, ``"phosphate"``, ``"sulfate"``,
        ``"carbonate"``, ``"oxide"`` and ``"non-oxide"``.

    Raises
    ------
    TypeError, ValueError
        As :func:`formula_elements`: for a formula that is not a string
        (TypeError), names no element or a symbol that is not one.

    Examples
    --------
    >>> anion_group("CaB_2_Si_2_O_8_")  # a borosilicate
    'silicate'
    >>> anion_group("Pb_5_(PO_4_)_3_Cl"), anion_group("ZnS")
    ('phosphate', 'non-oxide')
    """
    elements = formula_elements(formula)
    if "O" not in elements:
        return "non-oxide"
    present = _anion_markers(formula, elements)
    for group, markers in (
        ("silicate", {"Si"}),
        ("borate", {"B"}),
        ("phosphate", {"P", "As", "V"}),
        ("sulfate", {"S", "Se", "Te", "Cr", "Mo", "W"}),
        ("carbonate", {"C", "N"}),
    ):
        if present & markers:
            return group
    oxide_oxygen = "O" in _ELEMENT.findall(
        _HYDROXYL_OR_WATER.sub(" ", _MARKUP.sub(" ", formula))
    )
    # anions without oxygen: halogens, and S^2-^ and the like (not N^3-^ of
    # ammonium, a cation)
    negative = {e for e, _, sign in _CHARGED.findall(formula) if sign == "-"}
    oxygen_free = elements & _HALOGENS or negative - {"N"}
    return "oxide" if oxide_oxygen or not oxygen_free else "non-oxide"
