import pytest

from sktransfer.datasets import anion_group, formula_elements


@pytest.mark.parametrize(
    ("formula", "group"),
    [
        ("Be_3_Al_2_Si_6_O_18_", "silicate"),
        ("CaB_2_Si_2_O_8_", "silicate"),  # borosilicate: silicate first
        ("NaCaB_5_O_6_(OH)_6_·5H_2_O", "borate"),
        ("Pb_5_(PO_4_)_3_Cl", "phosphate"),
        ("CaCu^2+^As^5+^O_4_(OH)", "phosphate"),  # arsenate
        ("PbSO_4_", "sulfate"),
        ("CaWO_4_", "sulfate"),  # tungstate
        ("CaMg(CO_3_)_2_", "carbonate"),
        ("NaNO_3_", "carbonate"),  # nitrate
        ("Fe_2_O_3_", "oxide"),
        ("Mg(OH)_2_", "oxide"),
        ("ZnS", "non-oxide"),
        ("FeAsS", "non-oxide"),  # arsenide-sulfide, no oxygen
        ("CaF_2_", "non-oxide"),
        ("Na_3_Ca(Si_3_Al_3_)O_12_S", "silicate"),
        # Cr, V, Mo, W: oxyanions only at their highest valence, written
        # next to their oxygen and with another cation
        ("PbCrO_4_", "sulfate"),  # crocoite, a chromate
        ("Cu_3_V_2_O_7_(OH)_2_·2H_2_O", "phosphate"),  # volborthite
        ("Pb_5_(VO_4_)_3_Cl", "phosphate"),  # vanadinite
        ("Fe^2+^Cr^3+^_2_O_4_", "oxide"),  # chromite
        ("V^3+^O(OH)", "oxide"),  # montroseite
        ("Mg_6_Cr_2_CO_3_(OH)_16_·4H_2_O", "carbonate"),  # stichtite
        ("Cr_2_O_3_", "oxide"),  # eskolaite
        ("MoO_3_", "oxide"),  # molybdite
        ("WO_3_·H_2_O", "oxide"),  # tungstite
        ("CaV^4+^OSi_4_O_10_·4H_2_O", "silicate"),  # cavansite
        # ... and a charge at the highest valence keeps the oxyanion
        ("Pb^2+^Cr^6+^O_4_", "sulfate"),  # crocoite, charges written
        ("Pb_5_(V^5+^O_4_)_3_Cl", "phosphate"),  # vanadinite
        ("CaMo^6+^O_4_", "sulfate"),  # powellite
        ("CaW^6+^O_4_", "sulfate"),  # scheelite
        # a site shared by oxyanion formers only is their oxyanion ...
        ("Ca(Mo,W)O_4_", "sulfate"),  # powellite-scheelite
        ("Ca(Mo^6+^,W^6+^)O_4_", "sulfate"),
        ("Pb(Cr,V)O_4_", "phosphate"),  # a vanadate counts first
        # ... not a site shared with other cations (a chromian spinel)
        ("Mg(Al,Cr)_2_O_4_", "oxide"),
        # binary oxides of As, Se and Te are oxides, as MoO_3_ is
        ("As_2_O_3_", "oxide"),  # arsenolite
        ("As^3+^_2_O_3_", "oxide"),
        ("TeO_2_", "oxide"),  # paratellurite
        ("SeO_2_", "oxide"),  # downeyite
        ("Cu^+^_2_O", "oxide"),  # cuprite: a charge written without its number
        # negative charges: anions themselves, not oxyanion centres
        ("(N^3-^H_4_)Cl·H_2_O", "non-oxide"),  # no nitrate
        ("(N^3-^H_4_)Mg(PO_4_)·6H_2_O", "phosphate"),  # struvite
        # halides with oxygen only in hydroxyl or water (Strunz class 3)
        ("CuPb_2_Cl_2_(OH)_4_", "non-oxide"),  # diaboleite
        ("Cu_2_Cl(OH)_3_", "non-oxide"),  # atacamite
        ("MgCl_2_·6H_2_O", "non-oxide"),  # bischofite
        ("Pb_3_O_2_Cl_2_", "oxide"),  # mendipite: oxide oxygen
        # ... and sulfides with oxygen only in water (Strunz class 2)
        ("NaFe^3+^S^2-^_2_·2H_2_O", "non-oxide"),  # erdite
        ("Na_2_S^2-^·9H_2_O", "non-oxide"),
        ("NaFeS_2_·2H_2_O", "sulfate"),  # erdite without charges: misread
        ("(N^3-^H_4_)_2_Mg(OH)_4_", "oxide"),  # ammonium is no anion
        ("(Ca,Na)_2_Nb_2_O_6_(OH,F)", "oxide"),  # pyrochlore
        # arsenites, sulfites, selenites, tellurites: oxides (Strunz 4.J),
        # which used to be arsenates and sulfates
        ("Cu^2+^Se^4+^O_3_·2H_2_O", "oxide"),  # chalcomenite
        ("Cu^2+^Te^4+^O_3_·2H_2_O", "oxide"),  # teineite
        ("CaS^4+^O_3_·0.5H_2_O", "oxide"),  # hannebachite
        ("Cu^2+^As^3+^_2_O_4_", "oxide"),  # trippkeite
        # ... while the high valences stay oxyanions, also beside a low one
        ("Ca^2+^S^6+^O_4_·2H_2_O", "sulfate"),
        ("Mn^2+^_2_(As^3+^O_3_)(As^5+^O_4_)", "phosphate"),
        ("Cu^2+^Te^6+^O_4_", "sulfate"),
    ],
)
def test_anion_group_of_rruff_formulas(formula, group):
    assert anion_group(formula) == group


def test_formula_elements_ignore_markup():
    assert formula_elements(
        "[box]Ca_2_(Mg_4.5-2.5_Fe^2+^_0.5-2.5_)_Σ=5_Si_8_O_22_"
    ) == {
        "Ca",
        "Mg",
        "Fe",
        "Si",
        "O",
    }


def test_ree_is_ignored_wherever_it_stands():
    assert formula_elements("Ca_2_REE_2_(SiO_4_)_3_") == {"Ca", "Si", "O"}
    assert formula_elements("CaREE(PO_4_)") == {"Ca", "P", "O"}
    assert formula_elements("REEPO_4_") == {"P", "O"}


@pytest.mark.parametrize("bad", ["", "123", "Xx_2_O"])
def test_bad_formulas(bad):
    with pytest.raises(ValueError, match="Formula"):
        anion_group(bad)
    with pytest.raises(TypeError, match="formula must be a string; got NoneType"):
        anion_group(None)
